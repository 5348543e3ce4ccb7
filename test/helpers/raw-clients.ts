import { connect, type Socket } from 'node:net';

/** A raw HTTP/1.1 request (Connection: close) with an optional body. */
export function rawRequest(method: string, path: string, headers: Record<string, string>, body = ''): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (method !== 'GET') lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** Opens a socket that never reads what the server answers, and sends `request` on it. */
export function sendWithoutReading(port: number, request: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.pause();
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(request, () => {
        socket.off('error', reject);
        socket.on('error', () => undefined);
        resolve(socket);
      });
    });
  });
}

/** Sends `request`, then hangs up `ms` later without having read anything. */
export async function hangUpAfter(port: number, request: string, ms: number): Promise<void> {
  const socket = await sendWithoutReading(port, request);
  await new Promise((r) => setTimeout(r, ms));
  socket.destroy();
}
