import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/**
 * Ports handed to servers that bind them a moment later (nginx, clickhouse-server, prometheus, a
 * syslog listener) come from below the kernel's ephemeral range (32768-60999 on Linux): a port the
 * kernel picked for `listen(0)` is free again once closed, and any outgoing connection of any process
 * (one suite opens 3000 at once) could take it before the server binds it. Below that range only
 * another explicit chooser could, and each chooser picks at random among 12,000.
 */
const LOW = 20_000;
const HIGH = 32_767;

const tcpFree = (port: number): Promise<boolean> => new Promise((resolve) => {
  const srv = createServer();
  srv.once('error', () => resolve(false));
  srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
});

const udpFree = (port: number): Promise<boolean> => new Promise((resolve) => {
  const sock = createSocket('udp4');
  sock.once('error', () => {
    sock.close();
    resolve(false);
  });
  sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)));
});

/** A port free on 127.0.0.1 for TCP and UDP a moment ago, outside the kernel's ephemeral range. */
/**
 * Ports this process handed out, oldest first: not handed out again while they are among the last
 * RECENT (a server binds its ports a moment later, so two picks in one process, e.g. a clickhouse-server's
 * http and tcp ports, could otherwise both get a port neither has bound yet).
 */
const handed: number[] = [];
const handedSet = new Set<number>();
const RECENT = 2000;

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
    if (handedSet.has(port)) continue;
    if ((await tcpFree(port)) && (await udpFree(port)) && !handedSet.has(port)) {
      handed.push(port);
      handedSet.add(port);
      if (handed.length > RECENT) handedSet.delete(handed.shift() as number);
      return port;
    }
  }
  throw new Error(`no free port in ${LOW}-${HIGH} after 200 attempts`);
}
