import { Gauge, type Registry } from 'prom-client';
import type { PublishSession } from '../store/origin.js';
import type { QualityRow } from '../store/stream-quality.js';
import { OTHER, type SeriesBudget } from './series-budget.js';

/** How long a scrape waits for the open sessions before exporting what it had. */
export const SESSIONS_TIMEOUT_MS = 2000;

type StreamLabels = 'project' | 'domain' | 'app' | 'stream';

/**
 * The publish side in /metrics: live streams per publish domain, and per live stream its input bitrate
 * (from the origin's statistics page) and the probe's newest measured video fps. Read at scrape time
 * from the open sessions. Domains beyond a project's series budget fold into domain="_other"; streams
 * beyond it are not exported (both counted in livestats_metrics_folded_series_total).
 */
export class OriginMetrics {
  private readonly fps = new Map<string, { second: number; fps: number }>();

  constructor(
    registry: Registry,
    openSessions: () => Promise<PublishSession[]>,
    domains: SeriesBudget,
    streams: SeriesBudget,
    now: () => number,
  ) {
    const fps = this.fps;
    let current: Promise<PublishSession[]> | undefined;
    let at = 0;
    // One read per scrape, shared by the three gauges.
    const sessions = (): Promise<PublishSession[]> => {
      const t = now();
      if (current === undefined || t - at > 1000) {
        at = t;
        current = Promise.race([
          openSessions(),
          new Promise<PublishSession[]>((_, reject) => setTimeout(() => reject(new Error('timeout')), SESSIONS_TIMEOUT_MS).unref()),
        ]).catch(() => []);
      }
      return current;
    };
    const streamKey = (s: Pick<PublishSession, 'domain' | 'app' | 'stream'>): string => JSON.stringify([s.domain, s.app, s.stream]);
    new Gauge({
      name: 'livestats_origin_live_streams',
      help: 'Streams publishing now, per publish domain',
      labelNames: ['project', 'domain'],
      registers: [registry],
      async collect(this: Gauge<'project' | 'domain'>) {
        this.reset();
        const counts = new Map<string, { project: string; domain: string; n: number }>();
        for (const s of await sessions()) {
          const domain = domains.label(s.project, s.domain);
          const key = `${s.project}\u0000${domain}`;
          const c = counts.get(key) ?? { project: s.project, domain, n: 0 };
          c.n++;
          counts.set(key, c);
        }
        for (const c of counts.values()) this.set({ project: c.project, domain: c.domain }, c.n);
      },
    });
    const exported = async (): Promise<Array<{ s: PublishSession; labels: Record<StreamLabels, string> }>> => {
      const out = [];
      for (const s of await sessions()) {
        if (streams.label(s.project, streamKey(s)) === OTHER) continue;
        out.push({ s, labels: { project: s.project, domain: s.domain, app: s.app, stream: s.stream } });
      }
      return out;
    };
    new Gauge({
      name: 'livestats_origin_stream_input_kbps',
      help: 'Input bitrate of a live stream (kbit/s), from the origin\'s statistics page',
      labelNames: ['project', 'domain', 'app', 'stream'],
      registers: [registry],
      async collect(this: Gauge<StreamLabels>) {
        this.reset();
        for (const { s, labels } of await exported()) this.set(labels, s.bitrate);
      },
    });
    new Gauge({
      name: 'livestats_origin_stream_video_fps',
      help: 'Video frames in the newest second a probe measured of a live stream (absent while it is not probed)',
      labelNames: ['project', 'domain', 'app', 'stream'],
      registers: [registry],
      async collect(this: Gauge<StreamLabels>) {
        this.reset();
        const live = new Set<string>();
        for (const { s, labels } of await exported()) {
          const key = `${s.project}\u0000${streamKey(s)}`;
          live.add(key);
          const f = fps.get(key);
          if (f !== undefined) this.set(labels, f.fps);
        }
        for (const k of fps.keys()) if (!live.has(k)) fps.delete(k);
      },
    });
  }

  /** The newest measured second per stream of what the probes wrote. */
  observeQuality(rows: readonly QualityRow[]): void {
    for (const r of rows) {
      const key = `${r.project}\u0000${JSON.stringify([r.domain, r.app, r.stream])}`;
      const cur = this.fps.get(key);
      if (cur === undefined || cur.second <= r.second) this.fps.set(key, { second: r.second, fps: r.videoFps });
    }
  }
}
