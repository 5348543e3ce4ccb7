import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ISPS, REGIONS } from '../../contract/values.js';
import { projectRoot } from '../../paths.js';
import type { CodeCount, HttpCodesFilter } from '../types.js';
import { num, str, type ChConnection } from './client.js';
import type { BuildReply, BuildRequest } from './hour-block-worker.js';
import { hourCellsBytes, ISP_GROUPS, type HourCells, type LevelName } from './hour-cells.js';
import { table, type SchemaNames } from './schema.js';
import { quote, quoteList } from './sql.js';

const MIN = 60_000;
const HOUR = 3_600_000;
/** An hour is read from a block once it ended this long ago: a block of the hour being written would be rebuilt at every write. */
const CLOSED_AFTER_MS = 5 * MIN;
/**
 * A block is rebuilt this long after it was built even when its stamp has not changed: it bounds
 * what a batch whose stamp view failed and that was never retried (its node gone) could hide.
 */
const MAX_AGE_MS = 15 * MIN;
/** At most this many SQL reads (ranges of stale hours and the edges) beside the blocks in one answer. */
const MAX_SQL_RUNS = 4;

export interface HourBlocksOptions {
  /** Bytes of cells kept in memory (least recently built dropped first); default 256 MiB. */
  budgetBytes?: number;
  /** The compiled worker script (default: hour-block-worker.js beside this module, else under dist/). */
  workerUrl?: URL;
}

interface Block {
  stamp: string;
  builtAt: number;
  bytes: number;
  cells: HourCells;
}

/** Where a level's block cells come from for a filter: the groups to add up. */
function groupsFor(f: Pick<HttpCodesFilter, 'regions' | 'isps'>): { level: LevelName; groups: number[] } | undefined {
  const ri = f.regions.map((r) => REGIONS.indexOf(r) + 1);
  const ii = f.isps.map((i) => ISPS.indexOf(i) + 1);
  if (ri.includes(0) || ii.includes(0)) return undefined;
  const uniq = (xs: number[]): number[] => [...new Set(xs)];
  if (ri.length > 0 && ii.length > 0) return { level: 'detail', groups: uniq(ri.flatMap((r) => ii.map((i) => r * ISP_GROUPS + i))) };
  if (ri.length > 0) return { level: 'region', groups: uniq(ri) };
  if (ii.length > 0) return { level: 'isp', groups: uniq(ii) };
  return { level: 'all', groups: [0] };
}

/** The worker script: beside this module when compiled, else the build's copy (tests run the TypeScript sources). */
function defaultWorkerUrl(): URL | undefined {
  const beside = new URL('./hour-block-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = join(projectRoot(), 'dist', 'src', 'store', 'clickhouse', 'hour-block-worker.js');
  return existsSync(built) ? pathToFileURL(built) : undefined;
}

/**
 * Closed hours of the request counts kept in this node's memory, per (project, domain, hour), at
 * every rollup level (hour-cells.ts), so a query over many hours adds up cells instead of having
 * ClickHouse aggregate 100k+ rows. Exact while any number of nodes write:
 *
 * - every insert into the detail tables changes the hour's stamp (migration 008: a view sums a
 *   hash of every inserted row; a retried write that finds an earlier attempt bumps it too);
 * - a block is built by reading the hour's stamp, then its rows, then the stamp again, and kept
 *   only when both stamps are equal (no insert committed in between), with that stamp;
 * - a query reads the stamps of its hours (one small query) and uses a block only when it has the
 *   current stamp; an hour where any asked domain lacks one is read by SQL (with the edges, at most
 *   MAX_SQL_RUNS reads, else the whole query by SQL, as before), and the missing or stale blocks are
 *   built in the background. A write is acknowledged after its stamp rows are committed, so no
 *   acknowledged write is missing from an answer.
 *
 * Minutes outside whole closed hours (the edges of a range, the last minutes) are read by SQL.
 * The rows are parsed and summed into levels in a worker thread; the main thread only adds up
 * the cells of the asked groups.
 */
export class HourBlocks {
  private readonly blocks = new Map<string, Block>();
  private bytes = 0;
  private readonly budget: number;
  private readonly workerUrl: URL | undefined;
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, { resolve: (b: Array<[string, HourCells]>) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private queue: Promise<void> = Promise.resolve();
  private readonly queued = new Set<string>();
  private closed = false;
  /** Queries answered from blocks / by SQL (tests and the bench read them). */
  readonly stats = { fromBlocks: 0, partly: 0, bySql: 0, built: 0, discarded: 0 };

  constructor(private readonly server: ChConnection, private readonly names: SchemaNames, options: HourBlocksOptions = {}) {
    this.budget = options.budgetBytes ?? 256 * 2 ** 20;
    this.workerUrl = options.workerUrl ?? defaultWorkerUrl();
  }

  private t(name: string): string {
    return table(this.names, name);
  }

  /**
   * The counts of `f` from blocks plus SQL for the minutes outside whole closed hours, or undefined
   * when the query must be answered by SQL (a block missing or stale: it is built meanwhile).
   */
  async read(f: HttpCodesFilter, sql: (from: number, to: number) => Promise<CodeCount[]>, signal?: AbortSignal, now = Date.now()): Promise<CodeCount[] | undefined> {
    if (!this.workerUrl || this.closed) return undefined;
    const groups = groupsFor(f);
    const firstHour = Math.ceil(f.fromMinute / HOUR);
    const endHour = Math.floor(Math.min(f.toMinute, now - CLOSED_AFTER_MS) / HOUR);
    if (!groups || endHour <= firstHour) return undefined;
    const domains = [...new Set(f.domains)];
    const stamps = await this.stamps(f.project, domains, firstHour, endHour, signal);
    const stale: Array<{ domain: string; hour: number }> = [];
    const staleHour = new Uint8Array(endHour - firstHour);
    for (const domain of domains) {
      for (let h = firstHour; h < endHour; h++) {
        const b = this.blocks.get(key(f.project, domain, h));
        if (!b || b.stamp !== (stamps.get(`${domain}\u0000${h}`) ?? EMPTY) || now - b.builtAt > MAX_AGE_MS) {
          stale.push({ domain, hour: h });
          staleHour[h - firstHour] = 1;
        }
      }
    }
    // Hours without a current block (for any of the domains) are read by SQL, in runs of whole hours,
    // besides the edges; more than MAX_SQL_RUNS runs: the whole query by SQL.
    const edges: Array<[number, number]> = [[f.fromMinute, firstHour * HOUR]];
    for (let h = firstHour; h < endHour; h++) {
      if (!staleHour[h - firstHour]) continue;
      const last = edges[edges.length - 1] as [number, number];
      if (last[1] === h * HOUR) last[1] = (h + 1) * HOUR;
      else edges.push([h * HOUR, (h + 1) * HOUR]);
    }
    const tail = edges[edges.length - 1] as [number, number];
    if (tail[1] === endHour * HOUR) tail[1] = f.toMinute;
    else edges.push([endHour * HOUR, f.toMinute]);
    if (stale.length > 0) this.schedule(f.project, stale);
    if (edges.filter(([a, b]) => b > a).length > MAX_SQL_RUNS || stale.length === domains.length * (endHour - firstHour)) {
      this.stats.bySql++;
      return undefined;
    }
    const fromMin = f.fromMinute / MIN;
    const minutes = Math.ceil(f.toMinute / MIN) - fromMin;
    const byCode = new Map<number, Float64Array>();
    const seen = new Map<number, Uint8Array>();
    const add = (minute: number, code: number, n: number): void => {
      let col = byCode.get(code);
      let mark = seen.get(code);
      if (!col || !mark) {
        byCode.set(code, (col = new Float64Array(minutes)));
        seen.set(code, (mark = new Uint8Array(minutes)));
      }
      const i = minute - fromMin;
      col[i] = (col[i] as number) + n;
      mark[i] = 1;
    };
    for (const domain of domains) {
      for (let h = firstHour; h < endHour; h++) {
        if (staleHour[h - firstHour]) continue;
        const cells = (this.blocks.get(key(f.project, domain, h)) as Block).cells[groups.level];
        const base = h * 60;
        for (const g of groups.groups) {
          for (let i = cells.offsets[g] as number, end = cells.offsets[g + 1] as number; i < end; i++) {
            add(base + (cells.minute[i] as number), cells.code[i] as number, cells.count[i] as number);
          }
        }
      }
    }
    for (const [from, to] of edges) {
      if (to <= from) continue;
      for (const c of await sql(from, to)) add(c.minute / MIN, c.code, c.count);
    }
    const codes = [...byCode.keys()].sort((a, b) => a - b);
    const out: CodeCount[] = [];
    for (let i = 0; i < minutes; i++) {
      for (const code of codes) {
        if ((seen.get(code) as Uint8Array)[i]) out.push({ minute: (fromMin + i) * MIN, code, count: (byCode.get(code) as Float64Array)[i] as number });
      }
    }
    if (stale.length > 0) this.stats.partly++;
    else this.stats.fromBlocks++;
    return out;
  }

  /** The stamps of (domain, hour) as `rows:tags` (absent: no insert ever reached the hour). */
  private async stamps(project: string, domains: string[], from: number, to: number, signal?: AbortSignal): Promise<Map<string, string>> {
    const rows = await this.server.rows(`SELECT domain, hour, sum(rows) AS r, sum(tags) AS t FROM ${this.t('http_counts_stamps')}
      WHERE project = ${quote(project)} AND domain IN ${quoteList(domains)} AND hour >= ${quote(from)} AND hour < ${quote(to)}
      GROUP BY domain, hour`, signal);
    const out = new Map<string, string>();
    for (const r of rows) out.set(`${str(r.domain)}\u0000${num(r.hour)}`, `${String(r.r)}:${String(r.t)}`);
    return out;
  }

  /** Queues the builds of these (domain, hour)s, one hour at a time, each at most once in the queue. */
  private schedule(project: string, stale: Array<{ domain: string; hour: number }>): void {
    const byHour = new Map<number, string[]>();
    for (const s of stale) {
      const k = key(project, s.domain, s.hour);
      if (this.queued.has(k)) continue;
      this.queued.add(k);
      const list = byHour.get(s.hour);
      if (list) list.push(s.domain);
      else byHour.set(s.hour, [s.domain]);
    }
    for (const [hour, domains] of byHour) {
      this.queue = this.queue.then(() => this.build(project, domains, hour)).catch(() => {
        // A failed build (server away, a timeout) leaves the blocks missing: the next query asks again.
      }).finally(() => {
        for (const d of domains) this.queued.delete(key(project, d, hour));
      });
    }
  }

  private async build(project: string, domains: string[], hour: number): Promise<void> {
    if (this.closed) return;
    const before = await this.stamps(project, domains, hour, hour + 1);
    const where = `project = ${quote(project)} AND domain IN ${quoteList(domains)} AND minute >= ${quote(hour * 60)} AND minute < ${quote(hour * 60 + 60)} AND code > 0`;
    const list = (xs: readonly string[]): string => `[${xs.map((x) => quote(x)).join(', ')}]`;
    const text = await this.server.tsv(`SELECT indexOf(${list(domains)}, domain) AS di, intDiv(minute, 60) AS h, minute % 60 AS m,
        indexOf(${list(REGIONS)}, region) AS ri, indexOf(${list(ISPS)}, isp) AS ii, code, sum(count) AS n
      FROM (
        SELECT domain, minute, region, isp, code, count FROM ${this.t('http_counts')} WHERE ${where}
        UNION ALL
        SELECT domain, minute, region, isp, code, count FROM ${this.t('http_counts_bytes')} WHERE ${where}
      ) GROUP BY di, h, m, ri, ii, code`);
    const after = await this.stamps(project, domains, hour, hour + 1);
    if (domains.some((d) => before.get(`${d}\u0000${hour}`) !== after.get(`${d}\u0000${hour}`))) {
      this.stats.discarded++;
      return;
    }
    const built = new Map(await this.parse(text));
    const now = Date.now();
    domains.forEach((domain, i) => {
      const cells = built.get(`${i + 1}:${hour}`) ?? EMPTY_CELLS();
      this.put(key(project, domain, hour), { stamp: before.get(`${domain}\u0000${hour}`) ?? EMPTY, builtAt: now, bytes: hourCellsBytes(cells), cells });
    });
    this.stats.built++;
  }

  private put(k: string, b: Block): void {
    const old = this.blocks.get(k);
    if (old) {
      this.bytes -= old.bytes;
      this.blocks.delete(k);
    }
    this.blocks.set(k, b);
    this.bytes += b.bytes;
    for (const [oldest, v] of this.blocks) {
      if (this.bytes <= this.budget) break;
      this.blocks.delete(oldest);
      this.bytes -= v.bytes;
    }
  }

  private parse(text: string): Promise<Array<[string, HourCells]>> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, text } satisfies BuildRequest);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.workerUrl as URL);
    w.unref();
    w.on('message', (m: BuildReply) => {
      const job = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if ('error' in m) job?.reject(new Error(m.error));
      else job?.resolve(m.blocks);
    });
    const fail = (err: Error): void => {
      if (this.worker === w) this.worker = undefined;
      for (const job of this.waiting.values()) job.reject(err);
      this.waiting.clear();
    };
    w.on('error', fail);
    w.on('exit', () => fail(new Error('the hour-block worker exited')));
    this.worker = w;
    return w;
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }
}

const EMPTY = '0:0';
const key = (project: string, domain: string, hour: number): string => `${project}\u0000${domain}\u0000${hour}`;

function EMPTY_CELLS(): HourCells {
  const none = (groups: number): HourCells['all'] => ({ offsets: new Int32Array(groups + 1), minute: new Uint8Array(0), code: new Uint16Array(0), count: new Float64Array(0) });
  return { all: none(1), region: none(REGIONS.length + 1), isp: none(ISP_GROUPS), detail: none((REGIONS.length + 1) * ISP_GROUPS) };
}
