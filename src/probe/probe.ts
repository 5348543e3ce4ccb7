import type { CarouselSample } from '../contract/carousel.js';
import { Backoff } from './backoff.js';
import { SecondBucketer, type BucketerOptions } from './bucketer.js';
import { runChild, silentLog, type ChildExit, type Log, type RunningChild } from './child.js';
import { PACKET_ENTRIES, parsePacketLine } from './packets.js';

export interface StreamProbeOptions {
  /** Anything ffprobe reads: rtmp://, http(s)://...flv, .m3u8, srt://, udp://, tcp://. */
  url: string;
  /** Receives every reported second (zeros while disconnected), oldest first. */
  onSamples: (samples: CarouselSample[]) => void;
  log?: Log;
  ffprobe?: string;
  /** Reconnect when a connected stream delivers no packet for this long. */
  stallTimeoutMs?: number;
  /** Reconnect when a new connection delivers no packet for this long (probing included). */
  connectTimeoutMs?: number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** A connection that delivered packets this long resets the backoff. */
  healthyAfterMs?: number;
  tickMs?: number;
  bucketer?: BucketerOptions;
  now?: () => number;
  /** ffprobe's -show_entries/-of arguments (default PACKET_ENTRIES; more packet fields may be added, e.g. flags). */
  entries?: readonly string[];
  /** Every stdout line with its arrival time, after the bucketer has seen it (the origin prober reads key frames and pts). */
  onLine?: (line: string, at: number) => void;
  /** A new ffprobe connection starts (timestamps may restart). */
  onConnect?: () => void;
}

export interface ProbeStatus {
  connected: boolean;
  connections: number;
  lastPacketAt: number | null;
  packets: number;
  beforeConnect: number;
  late: number;
  reanchors: number;
}

/**
 * Measures a live stream second by second with ffprobe: per second, the video and audio
 * packets (= frames for video and AAC) and their payload kilobits. It reconnects with
 * backoff whenever ffprobe exits or the stream goes silent, and reports zeros meanwhile.
 */
export class StreamProbe {
  private readonly log: Log;
  private readonly now: () => number;
  private readonly bucketer: SecondBucketer;
  private readonly backoff: Backoff;
  private child: RunningChild | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = true;
  private connectedAt = 0;
  private firstPacketAt: number | null = null;
  private lastPacketAt: number | null = null;
  private killReason: string | undefined;
  private connections = 0;

  constructor(private readonly options: StreamProbeOptions) {
    this.log = options.log ?? silentLog;
    this.now = options.now ?? Date.now;
    this.bucketer = new SecondBucketer(this.now(), options.bucketer);
    this.backoff = new Backoff(options.backoffMinMs ?? 1000, options.backoffMaxMs ?? 30_000);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.tickTimer = setInterval(() => this.tick(), this.options.tickMs ?? 250);
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.tickTimer = undefined;
    this.retryTimer = undefined;
    const child = this.child;
    this.child = undefined;
    if (child) await child.kill();
  }

  status(): ProbeStatus {
    return {
      connected: this.child !== undefined && this.firstPacketAt !== null,
      connections: this.connections,
      lastPacketAt: this.lastPacketAt,
      ...this.bucketer.stats,
    };
  }

  private connect(): void {
    if (this.stopped) return;
    this.connections++;
    this.connectedAt = this.now();
    this.firstPacketAt = null;
    this.killReason = undefined;
    this.bucketer.connect(this.connectedAt);
    this.options.onConnect?.();
    const args = ['-hide_banner', '-loglevel', 'error', ...(this.options.entries ?? PACKET_ENTRIES), '-i', this.options.url];
    const child = runChild(this.options.ffprobe ?? 'ffprobe', args, (line) => {
      const packet = parsePacketLine(line);
      if (!packet) return;
      const at = this.now();
      if (this.firstPacketAt === null) {
        this.firstPacketAt = at;
        this.log.info({ url: this.options.url, afterMs: at - this.connectedAt }, 'probe: receiving stream');
      }
      this.lastPacketAt = at;
      this.bucketer.packet(packet, at);
      this.options.onLine?.(line, at);
    });
    this.child = child;
    void child.exited.then((exit) => this.onExit(child, exit));
  }

  private onExit(child: RunningChild, exit: ChildExit): void {
    if (this.child !== child) return; // stopped, or an old connection
    this.child = undefined;
    const receivedMs = this.firstPacketAt === null ? 0 : (this.lastPacketAt ?? this.firstPacketAt) - this.firstPacketAt;
    if (receivedMs >= (this.options.healthyAfterMs ?? 10_000)) this.backoff.reset();
    const delay = this.backoff.next();
    const why = this.killReason ?? exit.spawnError ?? (exit.code === 0 ? 'stream ended' : `ffprobe exited with ${exit.code ?? exit.signal}`);
    this.log.warn(
      { url: this.options.url, why, stderr: exit.stderr, receivedMs, retryInMs: delay },
      `probe: stream lost (${why}${exit.stderr.length > 0 ? `: ${exit.stderr[exit.stderr.length - 1]}` : ''}); recording zeros, reconnecting in ${delay} ms`,
    );
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private tick(): void {
    const now = this.now();
    const child = this.child;
    if (child && this.killReason === undefined) {
      const silentFor = now - (this.lastPacketAt !== null && this.firstPacketAt !== null ? this.lastPacketAt : this.connectedAt);
      const limit = this.firstPacketAt === null ? (this.options.connectTimeoutMs ?? 15_000) : (this.options.stallTimeoutMs ?? 5000);
      if (silentFor > limit) {
        this.killReason = this.firstPacketAt === null ? `no stream data within ${limit} ms of connecting` : `no packets for ${limit} ms`;
        void child.kill(500);
      }
    }
    const samples = this.bucketer.tick(now);
    if (samples.length > 0) this.options.onSamples(samples);
  }
}
