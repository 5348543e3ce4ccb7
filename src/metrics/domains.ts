import { Counter, type Registry } from 'prom-client';
import { unpackKey, type ProjectCells } from '../store/packed.js';
import type { CountRow } from '../store/types.js';
import type { SeriesBudget } from './series-budget.js';

export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

type Child = ReturnType<Counter['labels']>;

/**
 * `livestats_domain_requests_total{project,domain,class}`: the requests livestats has stored per
 * play domain and status class, added once a batch is committed (so it matches the stats API).
 * Domains beyond the project's series budget are counted under domain="_other".
 */
export class DomainMetrics {
  private readonly requests: Counter<'project' | 'domain' | 'class'>;
  /** project -> domain -> one child per status class (label hashing done once per series). */
  private readonly children = new Map<string, Map<string, Child[]>>();

  constructor(registry: Registry, private readonly budget: SeriesBudget) {
    this.requests = new Counter({
      name: 'livestats_domain_requests_total',
      help: 'Requests stored per project, play domain and status class (domain="_other": beyond --metrics-max-series)',
      labelNames: ['project', 'domain', 'class'],
      registers: [registry],
    });
  }

  /** Adds the counts of a committed batch (summed per project and domain first). */
  committed(rows: readonly CountRow[]): void {
    if (rows.length === 0) return;
    const sums = new Map<string, Map<string, Float64Array>>();
    // Rows of one domain mostly come one after another: skip the lookups for a repeat.
    let lastProject = '';
    let lastDomain = '';
    let s: Float64Array | undefined;
    for (const r of rows) {
      if (s === undefined || r.domain !== lastDomain || r.project !== lastProject) {
        let byDomain = sums.get(r.project);
        if (byDomain === undefined) {
          byDomain = new Map();
          sums.set(r.project, byDomain);
        }
        s = byDomain.get(r.domain);
        if (s === undefined) {
          s = new Float64Array(STATUS_CLASSES.length);
          byDomain.set(r.domain, s);
        }
        lastProject = r.project;
        lastDomain = r.domain;
      }
      const c = Math.floor(r.code / 100) - 1;
      if (c >= 0 && c < STATUS_CLASSES.length) s[c] = (s[c] as number) + r.count;
    }
    for (const [project, byDomain] of sums) {
      for (const [domain, s] of byDomain) {
        const series = this.series(project, this.budget.label(project, domain));
        for (let c = 0; c < STATUS_CLASSES.length; c++) {
          const n = s[c] as number;
          if (n > 0) (series[c] as Child).inc(n);
        }
      }
    }
  }

  /** Adds the requests of committed packed cells (summed per domain and status class first). */
  committedPacked(p: ProjectCells): void {
    const c = p.cells;
    if (c.keys.length === 0) return;
    // Per slot of the batch, then per domain: one pass over the cells, no object per cell.
    const perSlot = new Float64Array(c.slotDomains.length * STATUS_CLASSES.length);
    for (let i = 0; i < c.keys.length; i++) {
      const { slot, code } = unpackKey(c.keys[i] as number);
      const k = Math.floor(code / 100) - 1;
      if (k >= 0 && k < STATUS_CLASSES.length) perSlot[slot * STATUS_CLASSES.length + k] = (perSlot[slot * STATUS_CLASSES.length + k] as number) + (c.counts[i] as number);
    }
    const rows: CountRow[] = [];
    c.slotDomains.forEach((domain, slot) => {
      for (let k = 0; k < STATUS_CLASSES.length; k++) {
        const count = perSlot[slot * STATUS_CLASSES.length + k] as number;
        if (count > 0) rows.push({ project: p.project, domain, minute: 0, region: 'OT', isp: 'OTHER', code: (k + 1) * 100, count });
      }
    });
    this.committed(rows);
  }

  /** The five class series of a (project, domain label), created at 0 so rate() sees their start. */
  private series(project: string, domain: string): Child[] {
    let byDomain = this.children.get(project);
    if (byDomain === undefined) {
      byDomain = new Map();
      this.children.set(project, byDomain);
    }
    let series = byDomain.get(domain);
    if (series === undefined) {
      series = STATUS_CLASSES.map((c) => {
        const child = this.requests.labels({ project, domain, class: c });
        child.inc(0);
        return child;
      });
      byDomain.set(domain, series);
    }
    return series;
  }
}
