import { Gauge, type Registry } from 'prom-client';
import type { AudienceQuery } from '../store/audience.js';
import type { WriteBatch } from '../store/types.js';
import type { SeriesBudget } from './series-budget.js';

/** A scrape never waits longer than this for the audience read (as for the store probe). */
export const VIEWERS_READ_TIMEOUT_MS = 2000;
const MINUTE = 60_000;

type Labels = 'project' | 'domain' | 'protocol';

/**
 * `livestats_domain_online_viewers{project,domain,protocol}`: the online viewers of the last
 * complete minute per play domain and protocol, read from the audience cube at scrape time
 * (one ListPlayDomainStreamInfo-style read per project that has stored audience data since start).
 * Domains share the per-domain series budget of livestats_domain_requests_total: beyond it they
 * are summed under domain="_other". FLV sessions count once their log line is written (when they
 * end), so for long FLV sessions the value grows later (see README, "Viewers"); HLS is exact.
 * When the read fails or takes over VIEWERS_READ_TIMEOUT_MS the scrape has no series (never stale ones).
 */
export class AudienceMetrics {
  private readonly projects = new Set<string>();

  constructor(registry: Registry, budget: SeriesBudget, reads: Pick<AudienceQuery, 'playInfo'> | undefined, now: () => number) {
    const projects = this.projects;
    new Gauge({
      name: 'livestats_domain_online_viewers',
      help: 'Online viewers of the last complete minute per project, play domain and protocol (FLV sessions count once ended; ' +
        'domain="_other": beyond --metrics-max-series)',
      labelNames: ['project', 'domain', 'protocol'],
      registers: [registry],
      async collect(this: Gauge<Labels>) {
        this.reset();
        if (reads === undefined || projects.size === 0) return;
        const minute = Math.floor(now() / MINUTE) * MINUTE - MINUTE;
        await Promise.all([...projects].map(async (project) => {
          const rows = await withTimeout(reads.playInfo({ project, domains: [], minute }), VIEWERS_READ_TIMEOUT_MS);
          if (rows === undefined) return;
          const sums = new Map<string, { domain: string; protocol: string; online: number }>();
          for (const r of rows) {
            const domain = budget.label(project, r.domain);
            const key = `${domain}\u0000${r.protocol}`;
            const s = sums.get(key);
            if (s) s.online += r.online;
            else sums.set(key, { domain, protocol: r.protocol, online: r.online });
          }
          for (const s of sums.values()) this.set({ project, domain: s.domain, protocol: s.protocol }, s.online);
        }));
      },
    });
  }

  /** Remembers the projects a committed batch stored audience data for. */
  committed(batch: WriteBatch): void {
    for (const p of batch.audience ?? []) this.projects.add(p.project);
  }
}

/** The promise's value, or undefined when it fails or takes longer than `ms`. */
async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([p.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
