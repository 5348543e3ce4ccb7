import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import type { Aggregator } from '../aggregator.js';
import type { NameGate } from '../name-limits.js';
import type { LineProcessor } from '../processor.js';
import { createProcessor, type ProcessorSettings } from '../setup.js';
import { SyslogBuffer } from './buffer.js';
import { syslogMessage, TcpFramer } from './frame.js';

/** Lines counted by reason; `buffer_full` when the store was unavailable for too long, `rejected` when it rejected their data. */
export interface SyslogStats {
  lines: number;
  accepted: number;
  dropped: Record<string, number>;
  /** Lines counted but not yet committed (waiting for the store). */
  buffered: number;
}

export const DEFAULT_SYSLOG_BUFFER_LINES = 1_000_000;

export interface SyslogListener {
  protocol: 'udp' | 'tcp';
  host: string;
  port: number;
}

export class SyslogConfigError extends Error {}

/** "udp://127.0.0.1:5140", "tcp://[::1]:5140" -> listener. */
export function parseSyslogUrl(text: string): SyslogListener {
  const m = /^(udp|tcp):\/\/(\[[0-9A-Fa-f:.]+\]|[^:/\s]+):(\d{1,5})\/?$/.exec(text.trim());
  const port = m ? Number(m[3]) : -1;
  if (!m || port > 65535) throw new SyslogConfigError(`--syslog "${text}": expected udp://HOST:PORT or tcp://HOST:PORT`);
  const host = (m[2] as string).replace(/^\[|\]$/g, '');
  return { protocol: m[1] as 'udp' | 'tcp', host, port };
}

export interface SyslogOptions {
  listeners: SyslogListener[];
  project: string;
  settings: ProcessorSettings;
  aggregator: Aggregator;
  /** Lines kept while the store refuses writes (default DEFAULT_SYSLOG_BUFFER_LINES). */
  maxBufferedLines?: number;
  /** The project's name caps (src/ingest/name-limits.ts). */
  names?: NameGate;
  onError?: (err: unknown) => void;
}

/**
 * Receives access log lines over syslog (UDP datagrams; TCP with newline or octet-counted
 * framing) and counts them for one project. Cells are handed to the aggregator every 200 ms
 * through a bounded buffer that keeps them while the store refuses writes (see SyslogBuffer).
 */
export class SyslogReceiver {
  private readonly processor: LineProcessor;
  private readonly buffer: SyslogBuffer;
  private readonly udp: UdpSocket[] = [];
  private readonly tcp: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private timer: NodeJS.Timeout | undefined;
  /** Actual bound addresses (port 0 resolved), in listener order. */
  readonly bound: SyslogListener[] = [];

  constructor(private readonly o: SyslogOptions) {
    this.buffer = new SyslogBuffer(o.aggregator, o.project, o.maxBufferedLines ?? DEFAULT_SYSLOG_BUFFER_LINES);
    this.processor = createProcessor(o.settings, (cells) => {
      this.buffer.add(cells);
    }, undefined, false, o.names);
  }

  stats(): SyslogStats {
    const s = this.processor.stats;
    const dropped: Record<string, number> = { ...s.dropped };
    if (this.buffer.dropped > 0) dropped.buffer_full = this.buffer.dropped;
    if (this.buffer.rejected > 0) dropped.rejected = this.buffer.rejected;
    return { lines: s.lines, accepted: s.accepted - this.buffer.dropped - this.buffer.rejected, dropped, buffered: this.buffer.lines };
  }

  /** Hands what was counted to the buffer and the buffer to the aggregator (when the store takes writes). */
  private pump(): void {
    this.processor.flushCells();
    this.buffer.pump();
  }

  async start(): Promise<void> {
    for (const l of this.o.listeners) {
      if (l.protocol === 'udp') {
        const sock = createSocket(l.host.includes(':') ? 'udp6' : 'udp4');
        sock.on('message', (msg) => this.message(msg.toString('utf8')));
        sock.on('error', (err) => this.o.onError?.(err));
        await new Promise<void>((resolve, reject) => {
          sock.once('error', reject);
          sock.bind(l.port, l.host, () => {
            sock.off('error', reject);
            resolve();
          });
        });
        this.udp.push(sock);
        this.bound.push({ ...l, port: sock.address().port });
      } else {
        const server = createServer((socket) => this.connection(socket));
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(l.port, l.host, () => {
            server.off('error', reject);
            resolve();
          });
        });
        this.tcp.push(server);
        const addr = server.address();
        this.bound.push({ ...l, port: typeof addr === 'object' && addr ? addr.port : l.port });
      }
    }
    this.timer = setInterval(() => this.pump(), 200);
    this.timer.unref();
  }

  /** Stops listening and hands what was counted to the aggregator. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const s of this.udp) s.close();
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.tcp.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.pump();
  }

  private message(raw: string): void {
    const msg = syslogMessage(raw);
    this.processor.fallbackTime = Date.now();
    this.processor.refreshClock();
    if (msg === undefined) {
      this.processor.stats.lines++;
      this.processor.stats.dropped.parse = (this.processor.stats.dropped.parse ?? 0) + 1;
      return;
    }
    this.processor.process(msg);
  }

  private connection(socket: Socket): void {
    this.sockets.add(socket);
    const framer = new TcpFramer();
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => {
      for (const frame of framer.push(data)) this.message(Buffer.from(frame, 'latin1').toString('utf8'));
      if (framer.error) socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }
}
