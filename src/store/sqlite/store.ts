import { randomUUID } from 'node:crypto';
import type { PlayInfoFilter, PlayInfoRow, PortraitDay, PortraitFilter, UsersFilter } from '../audience.js';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { CubeCells } from '../blocks/cube.js';
import { writeWholeBlock } from '../blocks/bulk.js';
import type {
  CarouselSample, CodeCount, HttpCodesFilter, NameSpace, QueryOptions, SampleFilter, Store, StoredNames, TaskInfo, WriteBatch,
} from '../types.js';
import { allocateSeries, seriesGeneration, seriesLeft, seriesLimit, touchLastBlocks } from './series-ids.js';
import { HTTP_CUBE, ISP_INDEX, MINUTE_MS, REGION_INDEX, SAMPLES, SAMPLE_BLOCK_SECONDS, SECOND_MS } from './layout.js';
import { checkLayout, layoutMeta } from './layout-meta.js';
import { MigrationError, migrateSqlite } from './migrate.js';
import { appendCell, newCells } from './cube-cells.js';
import { addPackedCounts } from './packed-writes.js';
import { AudienceWriter } from './audience-writes.js';
import { InlineReader, type Reader } from './reader.js';
import { toCodeCounts, toSamples } from './results.js';
import { RetentionSlicer } from './retention.js';
import { TrafficWriter } from './traffic-writes.js';
import { perSlotTotals, writeTrafficBlock, type TrafficBlockCells } from './traffic-bulk.js';
import { ProjectTotals, replaceTrafficTotals } from './traffic-totals.js';
import { TRAFFIC_DOMAINS, TRAFFIC_STREAMS } from './traffic-layout.js';
import { cachedStatement } from '../blocks/table.js';
import type { TrafficFilter } from '../traffic.js';
import type { DetailKind } from '../../contract/traffic/detail.js';
import type { BatchSink } from './write-thread.js';
import { deleteQualityBefore, writeQuality as writeQualityRows } from './stream-quality.js';
import type { QualityFilter, QualityRow, QualitySample } from '../stream-quality.js';
import type { SeriesQuery } from '../../contract/origin/params.js';
import { applyOrigin, deleteOriginBefore, type OriginRead } from './origin.js';
import type {
  HistoryFilter, LiveStreamsFilter, OriginBatch, PlaySession, PublishSession, SessionPage, StreamCountFilter, UpBandwidthFilter,
} from '../origin.js';
import { isCorruption, prepareStoreFile, quickCheck, StoreDamagedError, type StartCheck } from './open-check.js';

export const SQLITE_PAGE_SIZE = 16_384;
/** Stored names read per statement by storedNames. */
const NAME_PAGE = 4096;
/** WAL bytes after which a commit checkpoints (SQLite's default of 1000 pages of 4 KiB). */
const WAL_CHECKPOINT_BYTES = 4_096_000;

export interface SqliteStoreOptions {
  /** Runs the store's reads (default: on this thread, on the store's own connection). */
  reader?: (file: string) => Reader;
  /** Writes batches elsewhere (a write thread; default: on this thread, on the store's own connection). */
  writer?: (file: string) => BatchSink;
  /** SQLite page cache of this connection in KiB (default: the build's, 16 MiB). */
  cacheKiB?: number;
  /** How init() checks the file (default 'quick': PRAGMA quick_check; 'header': the header and schema only). */
  startCheck?: StartCheck;
}

/**
 * The embedded store: one SQLite file in WAL mode holding blocks of cells (docs/storage.md),
 * written in one transaction per batch (counts, samples and checkpoints together).
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  /** write() reads packed cells (src/store/packed.ts) as they are. */
  readonly writesPacked = true;
  private readonly db: Database.Database;
  private readonly seriesIds = new Map<string, number>();
  /** Newest block stored per playback series, as far as this connection wrote it (see series-ids.ts). */
  private readonly lastBlocks = new Map<number, number>();
  /** The series generation the caches above belong to (a reclamation bumps it). */
  private generation = '';
  /** Playback requests not stored because no series id was left (the ingest paths drop such lines earlier). */
  skippedRequests = 0;
  private readonly taskIds = new Map<string, number>();
  private readonly statements = new Map<string, Database.Statement>();
  private reader: Reader | undefined;
  private writer: BatchSink | undefined;
  private readonly retention: RetentionSlicer;
  private readonly traffic = new TrafficWriter();
  private readonly audience = new AudienceWriter();
  private readonly projectTotals = new ProjectTotals();

  constructor(readonly file: string, private readonly options: SqliteStoreOptions = {}) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    prepareStoreFile(file, SQLITE_PAGE_SIZE);
    this.db = new Database(file);
    try {
      // New files use 16 KiB pages: 3 KB sample blocks pack 5 to a page instead of 1 to a 4 KiB one
      // (no effect on an existing file, whose page size is fixed).
      this.db.pragma(`page_size = ${SQLITE_PAGE_SIZE}`);
      this.db.pragma('journal_mode = WAL');
    } catch (err) {
      this.db.close();
      if (isCorruption(err)) throw new StoreDamagedError(file, `is damaged (${(err as Error).message})`);
      throw err;
    }
    // The automatic checkpoint counts pages: keep SQLite's default WAL size (1000 x 4 KiB) in bytes,
    // else 16 KiB pages let the WAL grow to 16 MB before it is copied back (and a small disk fills).
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    this.db.pragma(`wal_autocheckpoint = ${Math.max(1, Math.round(WAL_CHECKPOINT_BYTES / pageSize))}`);
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    if (options.cacheKiB !== undefined) this.db.pragma(`cache_size = -${Math.max(1, Math.round(options.cacheKiB))}`);
    this.retention = new RetentionSlicer(this.db);
  }

  async init(): Promise<void> {
    this.initNow();
  }

  /** init() on this thread, synchronously (for callers that cannot await: the batch -> store fuzz target). */
  initNow(): void {
    // Damage is found now, naming the file, not by the first write after /healthz said ok.
    if ((this.options.startCheck ?? 'quick') === 'quick') quickCheck(this.db, this.file);
    try {
      migrateSqlite(this.db);
      const stored = this.db.prepare("SELECT value FROM meta WHERE key = 'layout'").pluck().get() as string | undefined;
      checkLayout(stored);
      // Blocks written from now on use this build's format (older ones stay readable): record it,
      // so an older livestats refuses the file with a clear message instead of failing on a block.
      if (stored !== undefined && stored !== layoutMeta()) {
        this.db.prepare("UPDATE meta SET value = ? WHERE key = 'layout'").run(layoutMeta());
      }
    } catch (err) {
      if (isCorruption(err)) throw new StoreDamagedError(this.file, `is damaged (${(err as Error).message})`);
      throw new MigrationError(`${this.file}: ${(err as Error).message}`);
    }
    this.reader ??= this.options.reader ? this.options.reader(this.file) : new InlineReader(this.db);
    if (this.options.writer) this.writer ??= this.options.writer(this.file);
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  private read(): Reader {
    if (!this.reader) throw new Error('SqliteStore used before init()');
    return this.reader;
  }

  /** Series id of (project, domain), -1 when none is left; new ids are only cached by the caller once committed. */
  private seriesId(project: string, domain: string, fresh: Map<string, number>): number {
    const key = JSON.stringify([project, domain]);
    const known = this.seriesIds.get(key) ?? fresh.get(key);
    if (known !== undefined) return known;
    const id = allocateSeries(this.db, HTTP_CUBE, [project, domain], seriesLimit(HTTP_CUBE));
    if (id === undefined) return -1;
    fresh.set(key, id);
    return id;
  }

  /** Inside a write transaction: forgets cached series ids when a reclamation ran since they were cached. */
  private checkGeneration(): void {
    const g = seriesGeneration(this.db);
    if (g === this.generation) return;
    this.seriesIds.clear();
    this.lastBlocks.clear();
    this.generation = g;
  }

  /** Records the newest block of each playback series in `cells` (inside the write transaction). */
  private touchSeries(series: ArrayLike<number>, slots: ArrayLike<number>, count: number, seen: Map<number, number>): void {
    const newest = new Map<number, number>();
    for (let i = 0; i < count; i++) {
      const s = series[i] as number;
      const b = Math.floor((slots[i] as number) / HTTP_CUBE.spec.blockSlots);
      if ((newest.get(s) ?? -1) < b) newest.set(s, b);
    }
    touchLastBlocks(this.db, newest, this.lastBlocks, seen);
  }

  private taskRef(project: string, taskId: string, createdAt?: number, fresh?: Map<string, number>): number | undefined {
    const key = JSON.stringify([project, taskId]);
    const cached = this.taskIds.get(key) ?? fresh?.get(key);
    if (cached !== undefined) return cached;
    if (createdAt !== undefined) {
      this.stmt('INSERT OR IGNORE INTO carousel_tasks (project, task_id, created_at) VALUES (?, ?, ?)').run(project, taskId, createdAt);
    }
    const id = this.stmt('SELECT id FROM carousel_tasks WHERE project = ? AND task_id = ?').pluck().get(project, taskId) as
      | number
      | undefined;
    if (id !== undefined) (fresh ?? this.taskIds).set(key, id);
    return id;
  }

  async write(batch: WriteBatch): Promise<void> {
    if (this.writer) return this.writer.write(batch);
    this.writeNow(batch);
  }

  /** Writes a batch on this thread, synchronously (what write() does without a write thread; throws what it rejects with). */
  writeNow(batch: WriteBatch): void {
    const now = Date.now();
    const freshSeries = new Map<string, number>();
    const freshTasks = new Map<string, number>();
    const seen = new Map<number, number>();
    let skipped = 0;
    // IMMEDIATE: take the write lock first, so a read-merge-write never races another process's commit.
    const tx = this.db.transaction(() => {
      this.checkGeneration();
      const packed = batch.packed ?? [];
      let total = batch.counts.length;
      for (const p of packed) total += p.cells.keys.length;
      if (total > 0) {
        // Rows and packed cells go through one cube write: every touched block is merged once.
        const cells = newCells(total);
        for (const r of batch.counts) {
          const region = REGION_INDEX.get(r.region);
          const isp = ISP_INDEX.get(r.isp);
          if (region === undefined || isp === undefined) throw new Error(`unknown region/isp ${r.region}/${r.isp}`);
          const series = this.seriesId(r.project, r.domain, freshSeries);
          if (series < 0) skipped += r.count;
          else appendCell(cells, series, Math.floor(r.minute / MINUTE_MS), region, isp, r.code, r.count, r.bytes ?? 0);
        }
        for (const p of packed) skipped += addPackedCounts(cells, p, (domain) => this.seriesId(p.project, domain, freshSeries));
        HTTP_CUBE.write(this.db, cells);
        this.touchSeries(cells.series, cells.slot, cells.count, seen);
      }
      if (batch.traffic || packed.some((p) => p.cells.traffic)) this.traffic.write(this.db, batch.traffic ?? [], packed);
      if (batch.audience) this.audience.write(this.db, batch.audience);
      if (batch.origin) applyOrigin(this.db, batch.origin);
      for (const t of batch.tasks) this.taskRef(t.project, t.taskId, now, freshTasks);
      const blocks = new Map<string, { task: number; block: number; b: ReturnType<typeof SAMPLES.newBuilder> }>();
      const newest = new Map<number, number>();
      for (const s of batch.samples) {
        const task = this.taskRef(s.project, s.taskId, now, freshTasks) as number;
        const second = Math.floor(s.second / SECOND_MS);
        const block = Math.floor(second / SAMPLE_BLOCK_SECONDS);
        const k = `${task}:${block}`;
        let e = blocks.get(k);
        if (!e) blocks.set(k, (e = { task, block, b: SAMPLES.newBuilder() }));
        e.b.add(0, second - block * SAMPLE_BLOCK_SECONDS, [s.videoFps, s.videoKbps, s.audioFps, s.audioKbps]);
        if ((newest.get(task) ?? -Infinity) < second) newest.set(task, second);
      }
      for (const e of blocks.values()) SAMPLES.merge(this.db, e.task, 0, e.block, e.b);
      const touch = this.stmt('UPDATE carousel_tasks SET last_sample_at = max(coalesce(last_sample_at, 0), ?) WHERE id = ?');
      for (const [task, second] of newest) touch.run(second, task);
      const put = this.stmt('INSERT OR REPLACE INTO checkpoints (key, value, updated_at) VALUES (?, ?, ?)');
      for (const c of batch.checkpoints) put.run(c.key, c.value, now);
    });
    try {
      tx.immediate();
    } catch (err) {
      this.traffic.rollback();
      this.audience.rollback();
      throw err;
    }
    this.traffic.commit();
    this.audience.commit();
    for (const [k, v] of freshSeries) this.seriesIds.set(k, v);
    for (const [k, v] of freshTasks) this.taskIds.set(k, v);
    for (const [k, v] of seen) this.lastBlocks.set(k, v);
    this.skippedRequests += skipped;
  }

  /**
   * The bulk path (benchmark datasets, tools): runs fn in one transaction; inside it, bulkHour
   * and bulkSamples write whole blocks, replacing what was stored for them.
   */
  bulk(fn: () => void): void {
    const freshSeries = new Map<string, number>();
    const freshTasks = new Map<string, number>();
    const seen = new Map<number, number>();
    this.bulkIds = { freshSeries, freshTasks, seen };
    try {
      this.db.transaction(() => {
        this.checkGeneration();
        fn();
        this.projectTotals.finish(this.db);
      }).immediate();
      for (const [k, v] of freshSeries) this.seriesIds.set(k, v);
      for (const [k, v] of freshTasks) this.taskIds.set(k, v);
      for (const [k, v] of seen) this.lastBlocks.set(k, v);
    } finally {
      this.bulkIds = undefined;
    }
  }

  private bulkIds: { freshSeries: Map<string, number>; freshTasks: Map<string, number>; seen: Map<number, number> } | undefined;

  /** All cells of one (project, domain, hour): `cells.slot` in epoch minutes, dims region and isp indexes (see layout.ts). */
  bulkHour(project: string, domain: string, hour: number, cells: Omit<CubeCells, 'series'>): void {
    if (!this.bulkIds) throw new Error('bulkHour outside bulk()');
    const series = this.seriesId(project, domain, this.bulkIds.freshSeries);
    if (series < 0) throw new RangeError(`${HTTP_CUBE.seriesTable}: no series id left for a new domain`);
    const block = Math.floor(hour / (HTTP_CUBE.spec.blockSlots * MINUTE_MS));
    writeWholeBlock(this.db, HTTP_CUBE, series, block, cells);
    touchLastBlocks(this.db, new Map([[series, block]]), this.lastBlocks, this.bulkIds.seen);
  }

  /**
   * Traffic cells of one 6-hour block (index = epoch 5-minute slot / 72) of a domain series
   * (`[project, domain]`) or a stream series (`[project, domain, app, stream]`), replacing what was
   * stored; the caller writes a stream's cells into its domain series too (see traffic-bulk.ts).
   */
  bulkTraffic(tuple: readonly string[], block: number, cells: TrafficBlockCells): void {
    if (!this.bulkIds) throw new Error('bulkTraffic outside bulk()');
    const cube = tuple.length === 2 ? TRAFFIC_DOMAINS : TRAFFIC_STREAMS;
    const series = cube.seriesId(this.db, tuple, true) as number;
    writeTrafficBlock(this.db, cube, series, block, cells);
    if (cube === TRAFFIC_DOMAINS) {
      replaceTrafficTotals(this.db, series, block, perSlotTotals(cells));
      this.projectTotals.touch(tuple[0] as string, block);
    }
  }

  /** Samples of one task in one sample block (replacing it); `values[4 i + m]` for second `fromSecond + i` where present[i]. */
  bulkSamples(project: string, taskId: string, block: number, present: Uint8Array, values: Float64Array): void {
    if (!this.bulkIds) throw new Error('bulkSamples outside bulk()');
    const task = this.taskRef(project, taskId, Date.now(), this.bulkIds.freshTasks) as number;
    const b = SAMPLES.newBuilder();
    let last = -1;
    for (let i = 0; i < present.length && i < SAMPLE_BLOCK_SECONDS; i++) {
      if (present[i] === 0) continue;
      b.add(0, i, values.subarray(i * 4, i * 4 + 4));
      last = i;
    }
    if (b.size > 0) SAMPLES.put(this.db, task, 0, block, b.encode());
    if (last >= 0) {
      this.stmt('UPDATE carousel_tasks SET last_sample_at = max(coalesce(last_sample_at, 0), ?) WHERE id = ?').run(block * SAMPLE_BLOCK_SECONDS + last, task);
    }
  }

  async queryHttpCodes(f: HttpCodesFilter, o: QueryOptions = {}): Promise<CodeCount[]> {
    o.signal?.throwIfAborted();
    if (f.domains.length === 0 || f.toMinute <= f.fromMinute) return [];
    return toCodeCounts(await this.read().httpCodes(f, o.signal));
  }

  async querySamples(f: SampleFilter, o: QueryOptions = {}): Promise<CarouselSample[]> {
    o.signal?.throwIfAborted();
    if (f.to <= f.from) return [];
    return toSamples(await this.read().samples(f, o.signal));
  }

  async httpCodesBody(f: HttpCodesFilter, codes: readonly number[], o: QueryOptions = {}): Promise<Uint8Array> {
    o.signal?.throwIfAborted();
    return this.read().httpCodesBody(f, codes, o.signal);
  }

  async carouselBody(f: SampleFilter, o: QueryOptions = {}): Promise<Uint8Array> {
    o.signal?.throwIfAborted();
    return this.read().samplesBody(f, o.signal);
  }

  releaseBody(bytes: Uint8Array): void {
    this.reader?.release(bytes);
  }

  async trafficSeries(f: TrafficFilter, o: QueryOptions = {}): Promise<Float64Array> {
    o.signal?.throwIfAborted();
    if (f.to <= f.from) return new Float64Array(0);
    return this.read().trafficSeries(f, o.signal);
  }

  async trafficByDomain(f: TrafficFilter, o: QueryOptions = {}): Promise<Map<string, Float64Array>> {
    o.signal?.throwIfAborted();
    const out = new Map<string, Float64Array>();
    if (f.to <= f.from) return out;
    const r = await this.read().trafficByDomain(f, o.signal);
    r.domains.forEach((d, i) => out.set(d, r.series.subarray(i * r.slots, (i + 1) * r.slots)));
    return out;
  }

  async trafficDetailBody(f: TrafficFilter, kind: DetailKind, o: QueryOptions = {}): Promise<Uint8Array> {
    o.signal?.throwIfAborted();
    return this.read().trafficDetailBody(f, kind, o.signal);
  }

  // The audience cube (src/store/audience.ts; issue 21): reads and retention.
  async usersSeries(f: UsersFilter, o: QueryOptions = {}): Promise<Float64Array> {
    o.signal?.throwIfAborted();
    if (f.to <= f.from) return new Float64Array(0);
    return (await this.read().audience({ op: 'users', filter: f }, o.signal)) as Float64Array;
  }

  async playInfo(f: PlayInfoFilter, o: QueryOptions = {}): Promise<PlayInfoRow[]> {
    o.signal?.throwIfAborted();
    return (await this.read().audience({ op: 'play-info', filter: f }, o.signal)) as PlayInfoRow[];
  }

  /** The users answer rendered in a read worker (AudienceBodies): the bytes renderUsers gives for usersSeries. */
  async usersBody(f: UsersFilter, o: QueryOptions = {}): Promise<Uint8Array> {
    o.signal?.throwIfAborted();
    return (await this.read().audience({ op: 'users-body', filter: f }, o.signal)) as Uint8Array;
  }

  /** The play-info answer rendered in a read worker (AudienceBodies). */
  async playInfoBody(f: PlayInfoFilter, o: QueryOptions = {}): Promise<Uint8Array> {
    o.signal?.throwIfAborted();
    return (await this.read().audience({ op: 'play-info-body', filter: f }, o.signal)) as Uint8Array;
  }

  async streamPortrait(f: PortraitFilter, o: QueryOptions = {}): Promise<PortraitDay> {
    o.signal?.throwIfAborted();
    const day = (await this.read().audience({ op: 'portrait', filter: f }, o.signal)) as PortraitDay;
    // push_duration (issue 23): a stream's portrait only; the whole domain's stays 0.
    if (f.stream === undefined) return day;
    return { ...day, pushSeconds: await this.origin<number>(f.project, { op: 'push', project: f.project, stream: f.stream, day: f.day, now: Date.now() }, o) };
  }

  async audienceDomains(project: string, o: QueryOptions = {}): Promise<string[]> {
    o.signal?.throwIfAborted();
    return (await this.read().audience({ op: 'domains', project }, o.signal)) as string[];
  }

  async deleteAudienceBefore(cutoff: number): Promise<void> {
    await this.retention.runAudience(cutoff);
    this.audience.forgetKnown();
  }

  async trafficDomains(project: string, o: QueryOptions = {}): Promise<string[]> {
    o.signal?.throwIfAborted();
    return this.read().trafficDomains(project, o.signal);
  }

  /** A publish-side flush is a write batch of its own (on the write thread when there is one), its audience cells in the same transaction. */
  async writeOrigin(batch: OriginBatch): Promise<void> {
    const { audience, ...origin } = batch;
    return this.write({ id: randomUUID(), counts: [], samples: [], tasks: [], checkpoints: [], origin, ...(audience ? { audience } : {}) });
  }

  private origin<T>(project: string, read: OriginRead, o: QueryOptions): Promise<T> {
    o.signal?.throwIfAborted();
    return this.read().origin(project, read, o.signal) as Promise<T>;
  }

  liveStreams(filter: LiveStreamsFilter, o: QueryOptions = {}): Promise<SessionPage> {
    return this.origin(filter.project, { op: 'live', filter }, o);
  }

  historySessions(filter: HistoryFilter, o: QueryOptions = {}): Promise<SessionPage> {
    return this.origin(filter.project, { op: 'history', filter }, o);
  }

  streamCounts(filter: StreamCountFilter, o: QueryOptions = {}): Promise<Float64Array> {
    return this.origin(filter.project, { op: 'counts', filter, now: filter.now ?? Date.now() }, o);
  }

  upBytesSeries(filter: UpBandwidthFilter, o: QueryOptions = {}): Promise<Float64Array> {
    return this.origin(filter.project, { op: 'up', filter }, o);
  }

  openSessions(o: QueryOptions = {}): Promise<PublishSession[]> {
    return this.origin('', { op: 'open' }, o);
  }

  openPlays(o: QueryOptions = {}): Promise<PlaySession[]> {
    return this.origin('', { op: 'open-plays' }, o);
  }

  playSessions(project: string, from: number, to: number, o: QueryOptions = {}): Promise<PlaySession[]> {
    return this.origin(project, { op: 'plays', project, from, to }, o);
  }

  /** Probe samples are small (a few streams' seconds per flush): on this connection, one transaction. */
  async writeQuality(rows: readonly QualityRow[]): Promise<void> {
    if (rows.length > 0) writeQualityRows(this.db, rows);
  }

  async queryQuality(f: QualityFilter, o: QueryOptions = {}): Promise<QualitySample[]> {
    o.signal?.throwIfAborted();
    if (f.to <= f.from) return [];
    return this.read().quality(f, o.signal);
  }

  async qualityBody(f: QualityFilter, q: SeriesQuery, o: QueryOptions = {}): Promise<Uint8Array> {
    o.signal?.throwIfAborted();
    return this.read().qualityBody(f, q, o.signal);
  }

  async taskExists(project: string, taskId: string, o: QueryOptions = {}): Promise<boolean> {
    o.signal?.throwIfAborted();
    return this.taskRef(project, taskId) !== undefined;
  }

  async listTasks(project: string): Promise<TaskInfo[]> {
    const rows = this.stmt(
      'SELECT task_id, created_at, last_sample_at FROM carousel_tasks WHERE project = ? ORDER BY task_id',
    ).raw().all(project) as Array<[string, number, number | null]>;
    return rows.map(([taskId, createdAt, last]) => ({
      taskId, createdAt, lastSampleAt: last === null ? null : last * SECOND_MS,
    }));
  }

  /** The names a project has stored: playback or traffic domains, streams, carousel tasks (for the caps). */
  async storedNames(project: string): Promise<StoredNames> {
    const domains = await this.storedDomains(project);
    const streams: Array<[string, string, string]> = [];
    for (const k of await this.projectKeys(project, TRAFFIC_STREAMS.seriesTable)) {
      const t = JSON.parse(k) as string[];
      if (t.length === 4 && t[0] === project) streams.push([t[1] as string, t[2] as string, t[3] as string]);
    }
    const tasks = this.stmt('SELECT task_id FROM carousel_tasks WHERE project = ?').pluck().all(project) as string[];
    return { domains, streams, tasks };
  }

  /** The play domains of a project (playback or traffic counts), without reading its streams. */
  async storedDomains(project: string): Promise<string[]> {
    const domains = new Set<string>();
    for (const k of [...(await this.projectKeys(project, HTTP_CUBE.seriesTable)), ...(await this.projectKeys(project, TRAFFIC_DOMAINS.seriesTable))]) {
      const t = JSON.parse(k) as string[];
      if (t.length === 2 && t[0] === project) domains.add(t[1] as string);
    }
    return [...domains];
  }

  /** A project's series keys of a table, in pages. */
  private async projectKeys(project: string, table: string): Promise<string[]> {
    // Keys are JSON arrays starting with the project: a range on their unique index, read in pages
    // (this runs on the server's main thread: no page takes more than a few milliseconds).
    const prefix = JSON.stringify([project]).slice(0, -1) + ',';
    const keysOf = async (table: string): Promise<string[]> => {
      const page = cachedStatement(this.db, `SELECT key FROM ${table} WHERE key > ? AND key < ? ORDER BY key LIMIT ${NAME_PAGE}`).pluck();
      const out: string[] = [];
      let after = prefix;
      for (;;) {
        const keys = page.all(after, prefix + '\uffff') as string[];
        out.push(...keys);
        if (keys.length < NAME_PAGE) return out;
        after = keys[keys.length - 1] as string;
        await new Promise((r) => setImmediate(r));
      }
    };
    return keysOf(table);
  }

  /** Series ids left for new names (a new domain needs one of the playback and one of the traffic cube). */
  async nameSpace(): Promise<NameSpace> {
    return {
      domains: Math.min(seriesLeft(this.db, HTTP_CUBE), seriesLeft(this.db, TRAFFIC_DOMAINS)),
      streams: seriesLeft(this.db, TRAFFIC_STREAMS),
    };
  }

  async getCheckpoint(key: string): Promise<string | undefined> {
    return this.stmt('SELECT value FROM checkpoints WHERE key = ?').pluck().get(key) as string | undefined;
  }

  async getMeta(key: string): Promise<string | undefined> {
    return this.stmt('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.stmt('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value);
  }

  /** Deletes whole blocks that end before the cutoff, in short slices that yield to the event loop. */
  async deleteBefore(cutoff: number): Promise<void> {
    await this.retention.run(cutoff);
    await deleteQualityBefore(this.db, cutoff);
  }

  /** Deletes whole traffic blocks that end before the cutoff, in the same short slices. */
  async deleteTrafficBefore(cutoff: number): Promise<void> {
    await this.retention.runTraffic(cutoff);
    // The publish side looks back up to a year (origin-api.md): it is kept as long as the traffic cube.
    await deleteOriginBefore(this.db, cutoff);
  }

  async deleteCheckpointsBefore(prefix: string, cutoff: number): Promise<void> {
    // Range on the primary key instead of LIKE (whose wildcards a prefix could contain).
    this.stmt('DELETE FROM checkpoints WHERE key >= ? AND key < ? AND updated_at < ?').run(prefix, prefix + '\uffff', cutoff);
  }

  async close(): Promise<void> {
    await this.writer?.close();
    await this.reader?.close();
    if (this.db.open) this.db.close();
  }
}
