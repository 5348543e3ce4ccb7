import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { ISPS, REGIONS } from '../../../src/contract/values.js';
import type { CellBatch } from '../../../src/ingest/cells.js';
import { MAX_LINE_BYTES } from '../../../src/ingest/formats/types.js';
import type { LineProcessor } from '../../../src/ingest/processor.js';
import { createProcessor } from '../../../src/ingest/setup.js';
import { MAX_CELL_VALUE } from '../../../src/store/cell-values.js';
import type { ProjectCells } from '../../../src/store/packed.js';
import { totalRequests } from '../../../src/store/sqlite/reads.js';
import { SqliteStore } from '../../../src/store/sqlite/store.js';
import { trafficTotals } from '../../../src/store/sqlite/traffic-reads.js';
import type { TrafficRow } from '../../../src/store/traffic.js';
import type { CountRow, WriteBatch } from '../../../src/store/types.js';
import { accepted, dropped, wrong, type FuzzTarget, type Verdict } from '../target.js';

/**
 * The batch -> store path with extreme values (issue 20: two lines of 2^53 - 1 bytes in one cell made
 * the shared write fail for every tenant). Each input is 1 to 3 write batches into a real SQLite store
 * (the same write code `livestats serve` runs in its write thread), each holding several projects:
 * rows (counts, bytes, traffic requests and bytes anywhere in 0..2^53 - 1, duplicated keys, huge
 * counts) or access lines (bytes up to and past the per-line bound, through the line processor into
 * packed cells), plus a control project with ordinary values and up to thousands of cells.
 *
 * Judged: no write may fail (a failure is a crash: the blast radius would be every tenant of the
 * flush); the control project is stored exactly; an extreme project is stored exactly while its
 * total stays within 2^53 - 1, and past that reads back saturated (at most the exact sum, never less
 * than before the write, never past what a number holds exactly per cell). Outcomes: "accepted", or
 * dropped as `bad_bytes` (some line over the bound) or `saturated` (a total passed 2^53 - 1).
 */

const NOW = Date.UTC(2026, 0, 10, 12, 0, 0);
const MINUTE = 60_000;
const SLOT = 300_000;
const PROTOCOLS = ['flv', 'hls', 'other'] as const;
const IP_TYPES = ['v4', 'v6', 'other'] as const;

interface RowCell {
  domain: number;
  minute: number;
  region: number;
  isp: number;
  code: number;
  count: number;
  bytes: number;
  stream: number;
}

interface LineCell {
  domain: number;
  minute: number;
  bytes: number;
  code: number;
}

type Part = { kind: 'rows'; cells: RowCell[] } | { kind: 'lines'; lines: LineCell[] };

interface Input {
  /** Per batch, the parts of its extreme projects (project i of a batch is "x<i>"). */
  batches: Part[][];
  /** Ordinary cells of the control project per batch. */
  control: number;
}

/** Values near every boundary: 0, 1, 2^32, 2^40 (the per-line bound) and one past it, 2^52, 2^53 - 1, and anything between. */
const extreme: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, 1, 2 ** 32, MAX_LINE_BYTES, MAX_LINE_BYTES + 1, 2 ** 52, MAX_CELL_VALUE - 1, MAX_CELL_VALUE),
  fc.integer({ min: 0, max: MAX_CELL_VALUE }),
  fc.integer({ min: MAX_CELL_VALUE - 1000, max: MAX_CELL_VALUE }),
  fc.nat({ max: 10_000 }),
);

const rowCell: fc.Arbitrary<RowCell> = fc.record({
  domain: fc.nat({ max: 2 }),
  minute: fc.nat({ max: 2 }),
  region: fc.nat({ max: REGIONS.length - 1 }),
  isp: fc.nat({ max: ISPS.length - 1 }),
  code: fc.constantFrom(200, 206, 404, 502),
  count: extreme,
  bytes: extreme,
  stream: fc.nat({ max: 1 }),
});

const lineCell: fc.Arbitrary<LineCell> = fc.record({
  domain: fc.nat({ max: 2 }),
  minute: fc.nat({ max: 2 }),
  // Mostly within the per-line bound (up to it exactly), sometimes past it.
  bytes: fc.oneof({ arbitrary: fc.integer({ min: 0, max: MAX_LINE_BYTES }), weight: 6 }, { arbitrary: fc.constant(MAX_LINE_BYTES), weight: 2 }, { arbitrary: extreme, weight: 1 }),
  code: fc.constantFrom(200, 404),
});

const part: fc.Arbitrary<Part> = fc.oneof(
  fc.record({ kind: fc.constant('rows' as const), cells: fc.array(rowCell, { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('lines' as const), lines: fc.array(lineCell, { minLength: 1, maxLength: 8 }) }),
);

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');
function accessLine(ms: number, code: number, bytes: number, host: string, path: string): string {
  const d = new Date(ms);
  const t = `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
  return `10.0.0.1 - - [${t}] "GET ${path} HTTP/1.1" ${code} ${bytes} "-" "fuzz" ${host}`;
}

/** Exact totals of one project, as the store should hold them when no cell saturates. */
interface Totals {
  requests: bigint;
  trafficRequests: bigint;
  trafficBytes: bigint;
}

/** Inputs per store file: reads scan a project's series, so a small file keeps them fast. */
const RENEW = 20;

/** One SQLite store, renewed every RENEW inputs. */
class Rig {
  private dir = '';
  store!: SqliteStore;
  ro!: Database.Database;
  private uses = 0;
  private serial = 0;
  processor!: LineProcessor;
  private cells: CellBatch[] = [];

  constructor() {
    this.open();
    this.processor = createProcessor({ format: 'combined_host', retentionDays: 8 }, (c) => this.cells.push(c), () => NOW);
  }

  private open(): void {
    this.dir = mkdtempSync(join(tmpdir(), 'livestats-fuzz-store-'));
    this.store = new SqliteStore(join(this.dir, 'livestats.db'));
    this.store.initNow();
    this.ro = new Database(join(this.dir, 'livestats.db'), { readonly: true });
  }

  /** A fresh prefix for this input's projects (inputs never share a project). */
  next(): string {
    if (++this.uses > RENEW) {
      this.ro.close();
      void this.store.close();
      rmSync(this.dir, { recursive: true, force: true });
      this.open();
      this.uses = 1;
    }
    return `i${++this.serial}`;
  }

  /** Lines through the real line processor into packed cells. */
  lines(text: string[]): CellBatch[] {
    this.cells = [];
    this.processor.refreshClock();
    for (const l of text) this.processor.process(l);
    this.processor.flushCells();
    this.processor.takeStats();
    return this.cells;
  }

  read(project: string): { requests: number; trafficRequests: number; trafficBytes: number } {
    const t = trafficTotals(this.ro, project);
    return { requests: totalRequests(this.ro, project), trafficRequests: t.requests, trafficBytes: t.bytes };
  }
}

const MAX = BigInt(MAX_CELL_VALUE);

/** The stored totals of one project after a write, against its exact totals and what was stored before. */
function check(project: string, got: ReturnType<Rig['read']>, want: Totals, before: ReturnType<Rig['read']>): string | undefined {
  for (const k of ['requests', 'trafficRequests', 'trafficBytes'] as const) {
    const g = got[k];
    const w = want[k];
    if (!Number.isFinite(g) || g < 0) return `${project} ${k}: read ${g}`;
    if (w <= MAX) {
      if (g !== Number(w)) return `${project} ${k}: stored ${g}, expected ${w}`;
    } else if (g < before[k] || g > Number(w) * (1 + 2 ** -40)) {
      // Past 2^53 the read's own float sum over cells rounds: allowed a relative 2^-40 over the exact sum.
      return `${project} ${k}: stored ${g} after ${before[k]}, exact sum ${w}`;
    }
  }
  return undefined;
}

export function batchStoreTarget(): FuzzTarget<Input> {
  let rig: Rig | undefined;
  return {
    name: 'batch_store',
    title: 'write batches -> SQLite store with extreme values (near 2^53, huge counts, duplicate keys, lines past the per-line bound, thousands of cells), several projects per batch',
    arbitrary: fc.record({
      batches: fc.array(fc.array(part, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 2 }),
      control: fc.oneof({ arbitrary: fc.nat({ max: 20 }), weight: 4 }, { arbitrary: fc.integer({ min: 300, max: 1500 }), weight: 1 }),
    }),
    reasons: ['bad_bytes', 'saturated'],
    limitMs: 2000,
    maxInputs: 5000,
    prepare() {
      rig ??= new Rig();
    },
    run(input): Verdict {
      rig ??= new Rig();
      const r = rig;
      const prefix = r.next();
      const control = `${prefix}-ctl`;
      const totals = new Map<string, Totals>();
      const totalOf = (p: string): Totals => {
        let t = totals.get(p);
        if (!t) totals.set(p, (t = { requests: 0n, trafficRequests: 0n, trafficBytes: 0n }));
        return t;
      };
      let overBound = false;
      for (let b = 0; b < input.batches.length; b++) {
        const parts = input.batches[b] as Part[];
        const batch: WriteBatch = { id: `${prefix}-${b}`, counts: [], samples: [], tasks: [], checkpoints: [], traffic: [], packed: [] };
        const counts = batch.counts as CountRow[];
        const traffic = batch.traffic as TrafficRow[];
        const packed = batch.packed as ProjectCells[];
        parts.forEach((p, i) => {
          const project = `${prefix}-x${i}`;
          const t = totalOf(project);
          if (p.kind === 'rows') {
            for (const c of p.cells) {
              const domain = `d${c.domain}.example.com`;
              const minute = NOW - (c.minute + 1) * 10 * MINUTE;
              counts.push({ project, domain, minute, region: REGIONS[c.region] as CountRow['region'], isp: ISPS[c.isp] as CountRow['isp'], code: c.code, count: c.count, bytes: c.bytes });
              traffic.push({
                project, domain, app: 'live', stream: `s${c.stream}`, protocol: PROTOCOLS[c.stream % 3] as TrafficRow['protocol'],
                region: REGIONS[c.region] as TrafficRow['region'], isp: ISPS[c.isp] as TrafficRow['isp'], ipType: IP_TYPES[c.code % 3] as TrafficRow['ipType'],
                slot: Math.floor(minute / SLOT) * SLOT, requests: c.count, bytes: c.bytes,
              });
              t.requests += BigInt(c.count);
              t.trafficRequests += BigInt(c.count);
              t.trafficBytes += BigInt(c.bytes);
            }
          } else {
            const text = p.lines.map((l) => accessLine(NOW - (l.minute + 1) * 10 * MINUTE, l.code, l.bytes, `d${l.domain}.example.com`, `/live/s${l.domain}.flv`));
            for (const cells of r.lines(text)) packed.push({ project, cells });
            for (const l of p.lines) {
              if (l.bytes > MAX_LINE_BYTES) {
                overBound = true;
                continue;
              }
              t.requests += 1n;
              t.trafficRequests += 1n;
              t.trafficBytes += BigInt(l.bytes);
            }
          }
        });
        // The control project: ordinary values, many cells.
        const ct = totalOf(control);
        for (let k = 0; k < input.control; k++) {
          const domain = `c${k % 7}.example.com`;
          const minute = NOW - ((k % 20) + 1) * MINUTE;
          const code = 200 + (k % 5);
          counts.push({ project: control, domain, minute, region: REGIONS[k % REGIONS.length] as CountRow['region'], isp: ISPS[k % ISPS.length] as CountRow['isp'], code, count: 1 + (k % 3), bytes: 1000 + k });
          ct.requests += BigInt(1 + (k % 3));
        }
        const before = new Map([...totals.keys()].map((p) => [p, r.read(p)]));
        try {
          r.store.writeNow(batch);
        } catch (err) {
          return wrong(`batch ${b} of ${parts.length + 1} projects failed to write: ${(err as Error).message}`);
        }
        for (const [p, want] of totals) {
          const problem = check(p, r.read(p), want, before.get(p) as ReturnType<Rig['read']>);
          if (problem) return wrong(`after batch ${b}: ${problem}`);
        }
      }
      if (overBound) return dropped('bad_bytes');
      for (const t of totals.values()) if (t.requests > MAX || t.trafficRequests > MAX || t.trafficBytes > MAX) return dropped('saturated');
      return accepted;
    },
  };
}
