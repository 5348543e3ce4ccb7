import { Worker } from 'node:worker_threads';
import type { HttpCodesColumns } from '../../contract/httpcodes-body.js';
import { ISPS, REGIONS } from '../../contract/values.js';
import type { CodeCount, HttpCodesFilter } from '../types.js';
import { BlockCache, claimByHour, EMPTY_STAMP, HOUR_BLOCK_DEFAULTS, readStamps, sqlRanges, staleCells, type HourBlocksOptions, type StampedBlock } from './block-cache.js';
import type { ChConnection } from './client.js';
import type { WorkerReply, WorkerRequest } from './hour-block-worker.js';
import { ISP_GROUPS, type LevelName } from './hour-cells.js';
import { table, type SchemaNames } from './schema.js';
import { quote, quoteList } from './sql.js';
import { HOUR_STAMPS, stampKey, StampReads } from './stamp-reads.js';
import { blockWorkerUrl, RenderedBodies, workerAnswer } from './worker-host.js';
import type { BlockWorkerData } from './worker-port.js';
import { READ_THREAD_NICE } from '../thread-priority.js';

const MIN = 60_000;
const HOUR = 3_600_000;
/**
 * How long at most a stamps read of the request counts waits, after one returned, for the clients just answered
 * to ask again (SharedReads' holdMs, as play-info's and the portraits'): at 10 connections a 24 h x 10 domains
 * answer's stamps read (240 rows) then serves more answers, so fewer reads per answer, each ~1 ms of
 * clickhouse-server's CPU on the two cores the answers share.
 */
export const HTTP_COUNTS_STAMPS_HOLD_MS = 2;

export { HOUR_BLOCK_DEFAULTS, type HourBlocksOptions } from './block-cache.js';

/** A worker thread of the pool, its requests in flight and the answers it gave. */
interface PoolWorker {
  w: Worker;
  inFlight: number;
  answers: number;
  /** Answers awaited from this worker: while any is, the worker is ref'd. */
  held: number;
}

/** What the main thread knows of a block the workers hold. */
interface Block extends StampedBlock {
  bytes: number;
  /** Names this build of the block in the worker (a drop or an answer naming an older one is ignored there). */
  gen: number;
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

type Sql = (from: number, to: number) => Promise<CodeCount[]>;

/**
 * Closed hours of the request counts kept in this node's memory, per (project, domain, hour), at
 * every rollup level (hour-cells.ts), so a query over many hours adds up cells instead of having
 * ClickHouse aggregate 100k+ rows. Exact while any number of nodes write:
 *
 * - every insert into the detail tables changes the hour's stamp (migration 008: a view sums a
 *   hash of every inserted row; a retried write that finds an earlier attempt bumps it too);
 * - a block is built by reading the hour's stamp, then its rows, then the stamp again, and kept
 *   only when both stamps are equal (no insert committed in between), with that stamp;
 * - a query reads the stamps of its hours (stamp-reads.ts: one small query, shared by the queries
 *   that arrive together, always sent after each of them arrived) and uses a block only when it has
 *   the current stamp; an hour where any asked domain lacks one is read by SQL (with the edges, at
 *   most maxSqlRuns reads, else the whole query by SQL, as before), and the missing or stale
 *   blocks are built in the background. A write is acknowledged after its stamp rows are committed,
 *   so no acknowledged write is missing from an answer.
 *
 * Minutes outside whole closed hours (the edges of a range, the last minutes) are read by SQL.
 * The cells live in a pool of worker threads (hour-block-worker.ts; options.workers, default 2): the
 * first builds them from the rows into shared memory and the others adopt them, and any of them adds
 * up an answer's cells and renders it (the least busy one): the main thread only checks stamps and
 * decides which blocks an answer takes.
 */
export class HourBlocks {
  private readonly cache: BlockCache<Block>;
  private gen = 0;
  private readonly workerUrl: URL | undefined;
  /** Worker threads in the pool (each holds every block: one builds it, the others adopt its shared cells). */
  private readonly poolSize: number;
  /** The workers' nice value (HourBlocksOptions.threadNice). */
  private readonly threadNice: number;
  private pool: PoolWorker[] = [];
  /** Counts pool starts: a build begun under an earlier pool (since failed) is not kept. */
  private epoch = 0;
  /** The worker the last answer went to (answers go to the one with the fewest in flight, ties in turn). */
  private turn = 0;
  private readonly waiting = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void; worker: PoolWorker }>();
  private nextId = 0;
  /** The answers' buffers the workers rendered, until they are given back (release), then sent back with the next answers. */
  private readonly bodies: RenderedBodies;
  /** Queries answered from blocks / by SQL (tests and the bench read them). */
  readonly stats: BlockCache<Block>['stats'];

  constructor(private readonly server: ChConnection, private readonly names: SchemaNames, options: HourBlocksOptions = {}) {
    this.cache = new BlockCache<Block>(new StampReads(server, this.t('http_counts_stamps'), 'domain', 1, HOUR_STAMPS, HTTP_COUNTS_STAMPS_HOLD_MS), options,
      options.budgetBytes ?? HOUR_BLOCK_DEFAULTS.budgetBytes, (b) => b.bytes);
    this.stats = this.cache.stats;
    this.workerUrl = options.workerUrl ?? blockWorkerUrl('hour-block-worker.js');
    this.poolSize = Math.max(1, Math.floor(options.workers ?? HOUR_BLOCK_DEFAULTS.workers));
    this.threadNice = options.threadNice ?? READ_THREAD_NICE;
    this.bodies = new RenderedBodies(this.poolSize * 2 + 2);
  }

  /** Answers given by each worker of the current pool (tests and the bench read them). */
  get answersByWorker(): number[] {
    return this.pool.map((p) => p.answers);
  }

  /** Tests: ends worker `i` of the pool as a crash would (the whole pool and every block go; answers by SQL until rebuilt). */
  async stopWorker(i: number): Promise<void> {
    await this.pool[i]?.w.terminate();
  }

  /**
   * A body from `body` has been sent whole (ClickHouseStore.releaseBody): its buffer is moved (the
   * caller's view is detached at once: nothing may read it any more) and goes back to a worker with
   * the next answer, which renders into it (json-bytes.ts giveSpare) instead of ~0.7 MB of fresh
   * memory per answer, which this thread then had to collect (external memory: major GCs) and unmap.
   * Anything else (other bodies, a buffer given twice) is left alone.
   */
  release(bytes: Uint8Array): void {
    if (!this.cache.closed) this.bodies.release(bytes);
  }

  /** Buffers given back and not yet sent to a worker (tests read it). */
  get spareCount(): number {
    return this.bodies.count;
  }

  /** Stamps reads sent, and the queries they served. */
  get stampStats(): Readonly<{ reads: number; queries: number }> {
    return this.cache.stampReads.stats;
  }

  private t(name: string): string {
    return table(this.names, name);
  }

  /**
   * The answer's bytes for `codes` (as renderHttpCodes makes them), from blocks plus SQL for the
   * minutes outside whole closed hours, or undefined when the query must be answered by SQL.
   */
  async body(f: HttpCodesFilter, codes: readonly number[], sql: Sql, signal?: AbortSignal, now = Date.now()): Promise<Uint8Array | undefined> {
    const r = await this.answer(f, [...codes], sql, signal, now);
    return r && 'body' in r ? r.body : undefined;
  }

  /** The per-code columns of `f` (see body), or undefined: answer by SQL. */
  async columns(f: HttpCodesFilter, sql: Sql, signal?: AbortSignal, now = Date.now()): Promise<HttpCodesColumns | undefined> {
    const r = await this.answer(f, null, sql, signal, now);
    return r && 'columns' in r ? r.columns : undefined;
  }

  private async answer(f: HttpCodesFilter, codes: number[] | null, sql: Sql, signal: AbortSignal | undefined, now: number): Promise<WorkerReply | undefined> {
    if (!this.workerUrl || this.cache.closed || f.fromMinute % MIN !== 0) return undefined;
    const groups = groupsFor(f);
    const firstHour = Math.ceil(f.fromMinute / HOUR);
    const endHour = this.cache.endHour(f.toMinute, now);
    if (!groups || endHour <= firstHour) return undefined;
    const domains = [...new Set(f.domains)];
    const stamps = await this.cache.stampReads.read(f.project, domains, firstHour, endHour);
    if (signal?.aborted) return undefined;
    // Each (domain, hour)'s current block, looked up once (kept for the gens below).
    const hours = endHour - firstHour;
    const { stale, staleHour, found } = staleCells(this.cache, f.project, domains, firstHour, endHour, stamps, now);
    // Hours without a current block (for any of the domains) are read by SQL, in runs of whole hours,
    // besides the edges; more than maxSqlRuns runs: the whole query by SQL.
    const edges = sqlRanges(f.fromMinute, f.toMinute, firstHour, endHour, staleHour);
    if (stale.length > 0) this.schedule(f.project, stale);
    if (this.cache.bySql(edges.filter(([a, b]) => b > a).length, stale.length, domains.length * (endHour - firstHour))) return undefined;
    const slots = Math.max(0, Math.ceil((f.toMinute - f.fromMinute) / MIN));
    let current = 0;
    for (let h = firstHour; h < endHour; h++) if (!staleHour[h - firstHour]) current++;
    const gens = new Float64Array(current * domains.length);
    const bases = new Int32Array(current * domains.length);
    let n = 0;
    for (let d = 0; d < domains.length; d++) {
      for (let h = firstHour; h < endHour; h++) {
        if (staleHour[h - firstHour]) continue;
        gens[n] = (found[d * hours + h - firstHour] as Block).gen;
        bases[n++] = (h * HOUR - f.fromMinute) / MIN;
      }
    }
    const read: CodeCount[] = [];
    for (const [from, to] of edges) if (to > from) read.push(...(await sql(from, to)));
    const extra = { slot: new Int32Array(read.length), code: new Int32Array(read.length), count: new Float64Array(read.length) };
    for (let i = 0; i < read.length; i++) {
      const c = read[i] as CodeCount;
      const s = (c.minute - f.fromMinute) / MIN;
      // SQL reads whole minutes within the window (fromMinute is whole): never off it, but never trusted blindly.
      if (!Number.isInteger(s) || s < 0 || s >= slots) return undefined;
      extra.slot[i] = s;
      extra.code[i] = c.code;
      extra.count[i] = c.count;
    }
    const transfer = [gens.buffer, bases.buffer, extra.slot.buffer, extra.code.buffer, extra.count.buffer];
    // A rendered answer takes a sent one's buffer along (columns are not rendered into it).
    const spare = codes === null ? undefined : this.bodies.take();
    if (spare) transfer.push(spare);
    // The worker failed, or a block was dropped in it meanwhile (the budget): this answer by SQL.
    const reply = await workerAnswer(this.stats, () => this.call({
      type: 'answer', id: this.nextId++, gens, bases, level: groups.level, groups: groups.groups,
      fromMinute: f.fromMinute, toMinute: f.toMinute, slots, codes, extra, ...(spare ? { spare } : {}),
    }, transfer));
    if (!reply) return undefined;
    this.cache.answered(stale.length);
    if ('body' in reply) this.bodies.add(reply.body);
    return reply;
  }

  /** The stamps of (domain, hour) for a build, read now (not shared). */
  private stamps(project: string, domains: string[], from: number, to: number): Promise<Map<string, string>> {
    return readStamps(this.server, this.t('http_counts_stamps'), project, domains, from, to);
  }

  /** Queues the builds of these (domain, hour)s, one hour at a time, each at most once in the queue. */
  private schedule(project: string, stale: Array<{ domain: string; hour: number }>): void {
    for (const [hour, domains] of claimByHour(this.cache, project, stale)) {
      // A failed build (server away, a timeout) leaves the blocks missing: the next query asks again.
      this.cache.enqueue(() => this.build(project, domains, hour), () => domains.map((d) => stampKey(project, d, hour)));
    }
  }

  private async build(project: string, domains: string[], hour: number): Promise<void> {
    if (this.cache.closed) return;
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
    const keys = domains.map((d) => stampKey(project, d, hour));
    if (keys.some((k) => before.get(k) !== after.get(k))) {
      this.stats.discarded++;
      return;
    }
    const gens = keys.map(() => ++this.gen);
    this.start();
    const epoch = this.epoch;
    const share = this.poolSize > 1;
    const reply = await this.call({ type: 'build', id: this.nextId++, hour, text, keys, gens, share }, [], 0);
    // The pool failed meanwhile (its blocks are gone): not kept.
    if (!('built' in reply) || epoch !== this.epoch || this.cache.closed) return;
    if (share) {
      if (!reply.cells) return;
      // Posted before the blocks are known here, so every later answer, to any worker, finds them.
      const adopt = { type: 'adopt', keys, gens, cells: reply.cells } satisfies WorkerRequest;
      for (const p of this.pool.slice(1)) p.w.postMessage(adopt);
    }
    const now = Date.now();
    keys.forEach((k, i) => this.put(k, { stamp: before.get(k) ?? EMPTY_STAMP, builtAt: now, bytes: reply.built[i] as number, gen: gens[i] as number }));
    this.stats.built++;
  }

  private put(k: string, b: Block): void {
    const dropped = this.cache.put(k, b).map(([oldest, v]): [string, number] => [oldest, v.gen]);
    if (dropped.length > 0) for (const p of this.pool) p.w.postMessage({ type: 'drop', blocks: dropped } satisfies WorkerRequest);
  }

  /** Sends `m` to worker `to` of the pool, or (an answer) to the one with the fewest requests in flight. */
  private call(m: WorkerRequest & { id: number }, transfer: ArrayBuffer[], to?: number): Promise<WorkerReply> {
    // A build that was under way when the store closed ends here: no worker is started after close().
    if (this.cache.closed) return Promise.reject(new Error('the hour blocks are closed'));
    const pool = this.start();
    let target = pool[to ?? 0] as PoolWorker;
    if (to === undefined) {
      for (let i = 1; i <= pool.length; i++) {
        const p = pool[(this.turn + i) % pool.length] as PoolWorker;
        if (p.inFlight < target.inFlight || i === 1) target = p;
      }
      this.turn = pool.indexOf(target);
    }
    target.inFlight++;
    // An answer someone awaits holds the process while the worker computes it: the worker is unref'd
    // (a background build must not keep a process alive), and a process with nothing else to do exited
    // mid-answer (code 13, a child process in CI). Builds are not held.
    const held = m.type === 'answer';
    if (held && target.held++ === 0) target.w.ref();
    return new Promise<WorkerReply>((resolve, reject) => {
      this.waiting.set(m.id, { resolve, reject, worker: target });
      target.w.postMessage(m, transfer);
    }).finally(() => {
      if (held && --target.held === 0) target.w.unref();
    }).then((r) => {
      if ('error' in r) throw new Error(r.error);
      if (m.type === 'answer' && !('missing' in r)) target.answers++;
      return r;
    });
  }

  /** The pool, started when it is not running (all its workers at once: each holds every block). */
  private start(): PoolWorker[] {
    if (this.pool.length > 0) return this.pool;
    this.epoch++;
    const pool: PoolWorker[] = [];
    const fail = (err: Error): void => {
      for (const [id, job] of this.waiting) {
        if (!pool.includes(job.worker)) continue;
        this.waiting.delete(id);
        job.reject(err);
      }
      if (this.pool !== pool) return;
      // A worker failed: the whole pool goes (the others' blocks are the same blocks), and with it every block.
      this.pool = [];
      this.cache.clear();
      for (const p of pool) void p.w.terminate();
    };
    for (let i = 0; i < this.poolSize; i++) {
      const p: PoolWorker = { w: new Worker(this.workerUrl as URL, { workerData: { nice: this.threadNice } satisfies BlockWorkerData }), inFlight: 0, answers: 0, held: 0 };
      p.w.on('message', (m: WorkerReply) => {
        const job = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        if (job) job.worker.inFlight--;
        job?.resolve(m);
      });
      p.w.on('error', fail);
      p.w.on('exit', () => fail(new Error('an hour-block worker exited')));
      // After the listeners: adding the first 'message' listener refs the worker's port again, and a worker
      // unref'd before it kept the process alive for good (a server that never exited after "stopped cleanly").
      p.w.unref();
      pool.push(p);
    }
    this.pool = pool;
    return pool;
  }

  async close(): Promise<void> {
    this.cache.closed = true;
    this.bodies.clear();
    const pool = this.pool;
    this.pool = [];
    await Promise.all(pool.map((p) => p.w.terminate()));
  }
}
