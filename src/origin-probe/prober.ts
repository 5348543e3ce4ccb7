import type { PublishSession } from '../store/origin.js';
import type { QualityRow } from '../store/stream-quality.js';
import { silentLog, type Log } from '../probe/child.js';
import { StreamProbe, type StreamProbeOptions } from '../probe/probe.js';
import { QUALITY_ENTRIES, QualityTracker } from './quality.js';

export interface OriginProberOptions {
  /** The publish sessions open now (the origin intake's store: openSessions). */
  openSessions: () => Promise<PublishSession[]>;
  /** Where ffprobe reads a session's stream (e.g. rtmp://origin/app/stream); undefined: not probed. */
  urlOf: (s: PublishSession) => string | undefined;
  /** Stores per-second quality (the store's writeQuality). */
  write: (rows: QualityRow[]) => Promise<void>;
  /** --probe-max-streams: streams probed at once, all origins together. */
  maxStreams: number;
  /** --probe-per-origin: streams probed at once per origin. */
  perOrigin: number;
  /** How often the open sessions are read again (default 5 s). */
  refreshMs?: number;
  /** How often samples are written (default 1 s). */
  flushMs?: number;
  /** Samples kept while the store refuses writes, oldest dropped beyond (default 36 000: 10 streams x 1 h). */
  maxQueued?: number;
  log?: Log;
  /** Passed to each StreamProbe (ffprobe path, timeouts, clock). */
  probe?: Partial<Omit<StreamProbeOptions, 'url' | 'onSamples' | 'entries' | 'onLine' | 'onConnect'>>;
}

export interface ProberStatus {
  /** Streams being probed. */
  probing: number;
  /** Open streams left unprobed by the caps at the last refresh. */
  skipped: number;
  /** Samples dropped because the store refused writes for too long. */
  dropped: number;
}

interface Running {
  probe: StreamProbe;
  session: PublishSession;
}

const keyOf = (s: Pick<PublishSession, 'project' | 'domain' | 'app' | 'stream'>): string => JSON.stringify([s.project, s.domain, s.app, s.stream]);

/**
 * Probes every live publish session with the carousel probe (src/probe/: ffprobe packet lines bucketed
 * per second, reconnecting with backoff) plus a QualityTracker (GOP, last timestamps, delay), and writes
 * the per-second quality to the store. Bounded: at most `maxStreams` probes at once and `perOrigin` per
 * origin; the oldest sessions are probed first, a stream published on two origins (a relay) once,
 * preferring the publisher's session. A session that ends stops its probe at the next refresh.
 */
export class OriginProber {
  private readonly running = new Map<string, Running>();
  private queue: QualityRow[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private flushing: Promise<void> | undefined;
  private stopped = true;
  private readonly log: Log;
  private lastSkipped = 0;
  private dropped = 0;

  constructor(private readonly options: OriginProberOptions) {
    this.log = options.log ?? silentLog;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.refreshTimer = setInterval(() => void this.refresh(), this.options.refreshMs ?? 5000);
    this.flushTimer = setInterval(() => void this.flush(), this.options.flushMs ?? 1000);
    void this.refresh();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    if (this.flushTimer) clearInterval(this.flushTimer);
    await this.refreshing;
    await Promise.all([...this.running.values()].map((r) => r.probe.stop()));
    this.running.clear();
    await this.flush();
  }

  status(): ProberStatus {
    return { probing: this.running.size, skipped: this.lastSkipped, dropped: this.dropped };
  }

  /** Reads the open sessions and starts/stops probes to match (one refresh at a time). */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    let sessions: PublishSession[];
    try {
      sessions = await this.options.openSessions();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'origin probe: cannot read the open sessions; probes unchanged');
      return;
    }
    if (this.stopped) return;
    const wanted = selectForProbing(sessions, this.options.maxStreams, this.options.perOrigin, (s) => this.options.urlOf(s) !== undefined);
    this.lastSkipped = wanted.skipped;
    for (const [key, r] of this.running) {
      if (!wanted.chosen.has(key)) {
        this.running.delete(key);
        void r.probe.stop();
      }
    }
    for (const [key, session] of wanted.chosen) {
      if (this.running.has(key)) continue;
      const url = this.options.urlOf(session) as string;
      const tracker = new QualityTracker();
      const probe = new StreamProbe({
        ...this.options.probe,
        url,
        log: this.log,
        entries: QUALITY_ENTRIES,
        onConnect: () => tracker.reset(),
        onLine: (line, at) => tracker.line(line, at),
        onSamples: (samples) => {
          for (const s of samples) {
            this.queue.push({ ...tracker.complete(s), project: session.project, domain: session.domain, app: session.app, stream: session.stream });
          }
        },
      });
      this.running.set(key, { probe, session });
      probe.start();
      this.log.info({ project: session.project, domain: session.domain, app: session.app, stream: session.stream }, 'origin probe: probing a live stream');
    }
  }

  /** Writes what the probes reported (one write at a time); kept and retried when the store refuses. */
  flush(): Promise<void> {
    this.flushing ??= this.doFlush().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async doFlush(): Promise<void> {
    if (this.queue.length === 0) return;
    const rows = this.queue;
    this.queue = [];
    try {
      await this.options.write(rows);
    } catch (err) {
      this.queue = rows.concat(this.queue);
      const max = this.options.maxQueued ?? 36_000;
      if (this.queue.length > max) {
        this.dropped += this.queue.length - max;
        this.queue = this.queue.slice(this.queue.length - max);
      }
      this.log.warn({ err: (err as Error).message, queued: this.queue.length }, 'origin probe: cannot store samples; will retry');
    }
  }
}

/**
 * The sessions to probe: oldest first (ties by id), one per stream (a publisher's session before a relay's),
 * at most `perOrigin` per origin and `max` in all. `skipped`: probe-able streams left out by the caps.
 */
export function selectForProbing(
  sessions: readonly PublishSession[], max: number, perOrigin: number, probeable: (s: PublishSession) => boolean,
): { chosen: Map<string, PublishSession>; skipped: number } {
  const ordered = sessions.filter((s) => s.end === null && probeable(s))
    .sort((a, b) => a.type - b.type || a.start - b.start || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const chosen = new Map<string, PublishSession>();
  const perOriginCount = new Map<string, number>();
  const streams = new Set<string>();
  let skipped = 0;
  for (const s of ordered) {
    const key = keyOf(s);
    if (streams.has(key)) continue;
    streams.add(key);
    const n = perOriginCount.get(s.origin) ?? 0;
    if (chosen.size >= max || n >= perOrigin) {
      skipped++;
      continue;
    }
    perOriginCount.set(s.origin, n + 1);
    chosen.set(key, s);
  }
  return { chosen, skipped };
}

/** The URL a session is probed at: {origin} (bracketed when an IPv6 address), {app} and {stream} filled in (encoded). */
export function probeUrl(template: string, s: Pick<PublishSession, 'origin' | 'app' | 'stream'>): string | undefined {
  if (s.origin === '' || s.app === '' || s.stream === '') return undefined;
  const host = s.origin.includes(':') && !s.origin.startsWith('[') ? `[${s.origin}]` : s.origin;
  return template.replaceAll('{origin}', host).replaceAll('{app}', encodeURIComponent(s.app)).replaceAll('{stream}', encodeURIComponent(s.stream));
}
