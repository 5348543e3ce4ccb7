import type { Aggregator } from './aggregator.js';
import { ispOfCode, regionOfCode } from './geo/names.js';

const MINUTE = 60_000;
/** Bit budget of a numeric cell key: minute 20 bits | domain 12 | geo 8 | code 10 (50 bits, exact in a double). */
const DOMAINS = 4096;
const GEOS = 256;
const CODES = 1024;
export const MAX_DOMAINS = DOMAINS;

/** Pre-aggregated counts per (domain, minute, region+isp, code), keyed by one number per cell. */
export interface CellBatch {
  /** Minute number (epoch ms / 60000) that key minute offsets are relative to. */
  base: number;
  domains: string[];
  keys: Float64Array;
  counts: Float64Array;
}

export class CellCounter {
  private readonly counts = new Map<number, number>();
  private domains: string[] = [];
  private readonly domainIds = new Map<string, number>();
  private base = -1;

  get size(): number {
    return this.counts.size;
  }

  /** Whether a new domain or a minute this far from the base still fits; callers drain first otherwise. */
  fits(domain: string, time: number): boolean {
    const m = Math.floor(time / MINUTE);
    if (this.base >= 0 && (m - this.base < 0 || m - this.base >= 1 << 20)) return false;
    return this.domainIds.has(domain) || this.domains.length < DOMAINS;
  }

  add(domain: string, time: number, geo: number, code: number, n = 1): void {
    let id = this.domainIds.get(domain);
    if (id === undefined) {
      id = this.domains.length;
      this.domains.push(domain);
      this.domainIds.set(domain, id);
    }
    const m = Math.floor(time / MINUTE);
    // Base a little in the past so older lines of the same run still fit.
    if (this.base < 0) this.base = m - (1 << 19);
    const key = (((m - this.base) * DOMAINS + id) * GEOS + geo) * CODES + code;
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  /** Returns everything counted so far and starts empty. */
  drain(): CellBatch {
    const keys = new Float64Array(this.counts.size);
    const counts = new Float64Array(this.counts.size);
    let i = 0;
    for (const [k, c] of this.counts) {
      keys[i] = k;
      counts[i++] = c;
    }
    const batch = { base: this.base, domains: this.domains, keys, counts };
    this.counts.clear();
    this.domains = [];
    this.domainIds.clear();
    this.base = -1;
    return batch;
  }
}

/** Feeds a drained batch to the aggregator as whole cells. Returns the number of requests added. */
export function addCells(aggregator: Aggregator, project: string, batch: CellBatch): number {
  let total = 0;
  for (let i = 0; i < batch.keys.length; i++) {
    let k = batch.keys[i] as number;
    const code = k % CODES;
    k = (k - code) / CODES;
    const geo = k % GEOS;
    k = (k - geo) / GEOS;
    const id = k % DOMAINS;
    const rel = (k - id) / DOMAINS;
    const n = batch.counts[i] as number;
    aggregator.add({
      project, domain: batch.domains[id] as string, time: (batch.base + rel) * MINUTE,
      region: regionOfCode(geo), isp: ispOfCode(geo), code,
    }, n);
    total += n;
  }
  return total;
}
