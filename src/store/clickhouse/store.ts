import { randomUUID } from 'node:crypto';
import type { PlayInfoFilter, PlayInfoRow, PortraitDay, PortraitFilter, UsersFilter } from '../audience.js';
import type {
  CarouselSample, CodeCount, HttpCodesFilter, QueryOptions, SampleFilter, Store, StoredNames, TaskInfo, WriteBatch,
} from '../types.js';
import {
  chunkCounts, countsInsert, groupKey, type TaskRow, keyValueInsert, levelMarkersQueries, markersQueries, samplesInserts, slices, taskTouches, tasksInsert,
} from './batch.js';
import { httpCodesJson } from '../../contract/httpcodes.js';
import { codeCountColumns, renderHttpCodes } from '../../contract/httpcodes-body.js';
import { markNotApplied, neverConnected } from '../../health/store-faults.js';
import { BULK_COUNTS_COLUMNS, BULK_SAMPLES_COLUMNS } from './bulk.js';
import { ChEndpoint, num, settled, str, type ChConnection, type Lane } from './client.js';
import { FailoverEndpoint } from './failover.js';
import { replicateExisting } from './replicate.js';
import { retentionDrops, TRAFFIC_DAY_PARTITIONED } from './retention.js';
import { originRetentionDrops } from './origin-slots.js';
import { LEVELS, levelFor, levelInsert } from './rollups.js';
import { ClickHouseTraffic } from './traffic.js';
import { TrafficBlocks } from './traffic-blocks.js';
import { TrafficCells, TRAFFIC_CELLS_SHARE } from './traffic-cells.js';
import { CAROUSEL_BLOCKS_SHARE, CarouselBlocks, carouselBody, releaseCarouselBody, samplesSql, toSamples } from './carousel-blocks.js';
import { ClickHouseOrigin } from './origin.js';
import { ClickHouseStreamQuality } from './stream-quality.js';
import { HourBlocks, type HourBlocksOptions } from './hour-blocks.js';
import { HOUR_BLOCK_DEFAULTS } from './block-cache.js';
import { columnsToCells } from './hour-answer.js';
import type { QualityFilter, QualityRow, QualitySample } from '../stream-quality.js';
import type {
  HistoryFilter, LiveStreamsFilter, OriginBatch, PlaySession, PublishSession, SessionPage, StreamCountFilter, UpBandwidthFilter,
} from '../origin.js';
import { AUDIENCE_TABLES, ClickHouseAudience } from './audience.js';
import { AudienceBlocks, AudienceUsersBlocks } from './audience-blocks.js';
import { UsersBodies } from './users-bodies.js';
import { PortraitDays } from './portrait-days.js';
import { PlayInfoBlocks } from './play-info-blocks.js';
import type { TrafficFilter } from '../traffic.js';
import type { DetailKind } from '../../contract/traffic/detail.js';
import { localTable, migrateClickHouse, table, type SchemaNames } from './schema.js';
import { ident, quote, quoteList, SqlValueError, TsvBytes } from './sql.js';
import { ClickHouseUrlError, parseClickHouseUrls, redact } from './url.js';
import { VersionClock } from './versions.js';
import { packedRows } from './packed-rows.js';

const MIN = 60_000;
const SEC = 1000;
const MAX_PENDING = 10_000;

export interface ClickHouseStoreOptions {
  /** One URL, or (cluster mode) a comma-separated URL per shard server; see url.ts. */
  url: string;
  /** A cluster from the servers' remote_servers: local tables on every server + Distributed tables. */
  cluster?: string;
  requestTimeoutMs?: number;
  /** A read not answered within this long fails with QueryTimeoutError (see ChEndpointOptions); the server passes --query-timeout-ms. */
  queryTimeoutMs?: number;
  /**
   * Replicated layout (needs `cluster`; see docs/clickhouse.md): Replicated*MergeTree tables in
   * ZooKeeper, and reads and writes fail over from one listed server to the next.
   */
  replicated?: boolean;
  /** Replicated layout: an insert is confirmed once this many replicas of its shard hold it (insert_quorum; 0/1: one). */
  insertQuorum?: number;
  /** Closed hours of the request counts kept in memory and checked against their stamps (hour-blocks.ts); false: every query by SQL. */
  hourBlocks?: HourBlocksOptions | false;
  /** The reads at a lower ClickHouse `priority` than the write path's statements (ChEndpointOptions.readsYield; --clickhouse-reads-yield), except in the replicated layout (see readsYield()). */
  readsYield?: boolean;
  /** Nice value of every block and rendering worker thread (--query-thread-nice; HourBlocksOptions.threadNice, which it overrides). */
  queryThreadNice?: number;
}

/**
 * Whether the reads yield to the write path (ChEndpointOptions.readsYield): asked, and not the replicated layout. A
 * replicated insert stays in the server's process list while it waits for ZooKeeper (a session lost or cut off: up to
 * its operation timeout) or for its quorum (a replica down: up to insert_quorum_timeout), and a read of a lower
 * priority waits up to a second at each of its blocks while it is there: one lost replica or ZooKeeper would stall
 * every read of the node, where the replicated layout is meant to keep answering.
 */
export function readsYield(options: Pick<ClickHouseStoreOptions, 'readsYield' | 'replicated'>): boolean {
  return options.readsYield === true && options.replicated !== true;
}

/**
 * The ClickHouse store. Reads and writes go to the first server (through Distributed
 * tables in cluster mode); schema and retention are applied on every listed server.
 * See batch.ts for how a retried write is applied exactly once.
 */
/** Where counts are written (with bytes sent) since schema v3; http_counts holds older ones. */
const COUNTS = 'http_counts_bytes';

/** Rows `minute TAB code TAB n` (TabSeparated, numbers only) as CodeCounts, minutes in epoch ms. */
export function parseCodeCounts(text: string): CodeCount[] {
  const out: CodeCount[] = [];
  let at = 0;
  while (at < text.length) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = text.length;
    const t1 = text.indexOf('\t', at);
    const t2 = t1 < 0 ? -1 : text.indexOf('\t', t1 + 1);
    if (t1 < 0 || t2 < 0 || t2 > nl) throw new Error(`ClickHouse returned a malformed row: ${JSON.stringify(text.slice(at, Math.min(nl, at + 80)))}`);
    out.push({ minute: num(text.slice(at, t1)) * MIN, code: num(text.slice(t1 + 1, t2)), count: num(text.slice(t2 + 1, nl)) });
    at = nl + 1;
  }
  return out;
}

export class ClickHouseStore implements Store {
  readonly kind = 'clickhouse';
  /** write() takes the parse workers' packed cells as they are and makes its rows of them (packed-rows.ts). */
  readonly writesPacked = true;
  private readonly servers: ChEndpoint[];
  private readonly names: SchemaNames;
  /** The first server, or (replicated layout) the listed servers one at a time, failing over. */
  private readonly primary: ChConnection;
  /** Batch id -> version of a write that failed (it may have partly landed). */
  private readonly pending = new Map<string, bigint>();
  /** (project, task) -> createdAt of tasks known to be stored. */
  private readonly tasks = new Map<string, number>();
  /** The versions of this node's writes (versions.ts: never shared with another write). */
  private readonly clock = new VersionClock();
  private readonly traffic: ClickHouseTraffic;
  private readonly origin: ClickHouseOrigin;
  private readonly quality: ClickHouseStreamQuality;
  private readonly audience: ClickHouseAudience;
  /** Closed hours of the request counts in memory (issue 24), or undefined (options.hourBlocks false). */
  readonly hourBlocks: HourBlocks | undefined;
  /** Closed hours of the carousel samples in memory, or undefined (options.hourBlocks false). */
  readonly carouselBlocks: CarouselBlocks | undefined;
  readonly options: ClickHouseStoreOptions;

  constructor(options: ClickHouseStoreOptions) {
    if (options.queryThreadNice !== undefined && options.hourBlocks !== false) {
      options = { ...options, hourBlocks: { ...options.hourBlocks, threadNice: options.queryThreadNice } };
    }
    this.options = options;
    const target = parseClickHouseUrls(options.url);
    if (options.cluster !== undefined) ident(options.cluster);
    else if (target.endpoints.length > 1) throw new ClickHouseUrlError('several ClickHouse URLs need a cluster name (--clickhouse-cluster)');
    if (options.replicated && options.cluster === undefined) throw new ClickHouseUrlError('the replicated layout needs a cluster name (--clickhouse-cluster)');
    this.names = { database: target.database, cluster: options.cluster, ...(options.replicated ? { replicated: true } : {}) };
    this.servers = target.endpoints.map((e) => new ChEndpoint(e, { requestTimeoutMs: options.requestTimeoutMs, queryTimeoutMs: options.queryTimeoutMs, readsYield: readsYield(options) }));
    this.primary = options.replicated ? new FailoverEndpoint(this.servers) : this.servers[0] as ChEndpoint;
    const blockBudget = (options.hourBlocks === false ? undefined : options.hourBlocks?.budgetBytes) ?? HOUR_BLOCK_DEFAULTS.budgetBytes;
    this.traffic = new ClickHouseTraffic(this.primary, this.names, (ids) => this.waitUntilFinished(ids), () => this.insertSettings,
      (name, queriesFor) => this.checkQuorum(name, queriesFor),
      options.hourBlocks === false ? undefined : new TrafficBlocks(this.primary, this.names, options.hourBlocks),
      options.hourBlocks === false ? undefined : new TrafficCells(this.primary, this.names, options.hourBlocks ?? {}, blockBudget * TRAFFIC_CELLS_SHARE));
    this.origin = new ClickHouseOrigin(this.primary, this.names, () => this.insertSettings, (ids) => this.waitUntilFinished(ids),
      (name, queriesFor) => this.checkQuorum(name, queriesFor));
    this.quality = new ClickHouseStreamQuality(this.primary, this.names, this.insertSettings);
    this.audience = new ClickHouseAudience(this.primary, this.names, (ids) => this.waitUntilFinished(ids), () => this.insertSettings,
      (name, queriesFor) => this.checkQuorum(name, queriesFor),
      options.hourBlocks === false ? undefined : new AudienceBlocks(this.primary, this.names, options.hourBlocks),
      options.hourBlocks === false ? undefined : new PlayInfoBlocks(this.primary, this.names, options.hourBlocks),
      options.hourBlocks === false ? undefined : new AudienceUsersBlocks(this.primary, this.names, options.hourBlocks),
      new UsersBodies(undefined, undefined, options.queryThreadNice ?? (options.hourBlocks === false ? undefined : options.hourBlocks?.threadNice)),
      options.hourBlocks === false || options.hourBlocks?.portraitDays === false ? undefined : new PortraitDays(this.primary, this.names, options.hourBlocks));
    // The byte budget of --clickhouse-hour-blocks-mib: the traffic cells' share, the carousel hours' share, the request counts' blocks the rest.
    this.hourBlocks = options.hourBlocks === false ? undefined
      : new HourBlocks(this.primary, this.names, { ...options.hourBlocks, budgetBytes: blockBudget * (1 - TRAFFIC_CELLS_SHARE - CAROUSEL_BLOCKS_SHARE) });
    this.carouselBlocks = options.hourBlocks === false ? undefined : new CarouselBlocks(this.primary, this.names, options.hourBlocks, blockBudget * CAROUSEL_BLOCKS_SHARE);
  }

  private t(name: string): string {
    return table(this.names, name);
  }

  private nextVersion(): bigint {
    return this.clock.next();
  }

  async init(): Promise<void> {
    for (const server of this.servers) {
      const where = redact(server.endpoint.url);
      if (this.names.cluster) {
        const rows = await server.rows(`SELECT count() AS n FROM system.clusters WHERE cluster = ${quote(this.names.cluster)}`);
        if (num(rows[0]?.n) === 0) throw new Error(`ClickHouse cluster "${this.names.cluster}" is not in remote_servers of ${where}`);
      }
      if (this.names.replicated) {
        const macros = await server.rows("SELECT count() AS n FROM system.macros WHERE macro IN ('shard', 'replica')");
        if (num(macros[0]?.n) !== 2) throw new Error(`ClickHouse server ${where} lacks the {shard} and {replica} macros the replicated layout needs`);
      }
      await migrateClickHouse(server, this.names);
      // Tables an earlier livestats made without replication become replicated, rows kept (replicate.ts).
      await replicateExisting(server, this.names);
    }
    // Through the Distributed tables, this fails when any shard lacks its local tables.
    for (const name of ['http_counts', 'http_counts_bytes', ...LEVELS.map((l) => l.table), 'http_counts_stamps', 'carousel_stamps', 'carousel_samples', 'carousel_tasks', 'checkpoints', 'meta', 'traffic_streams', 'traffic_domains', 'traffic_stamps', 'traffic_stream_stamps', 'traffic_day_stamps', 'traffic_project_day_stamps', 'origin_sessions', 'origin_up_bytes', 'origin_up_domain', 'origin_plays', 'stream_quality', ...AUDIENCE_TABLES]) {
      await this.primary.rows(`SELECT count() AS n FROM ${this.t(name)}`);
    }
  }

  async write(written: WriteBatch): Promise<void> {
    // Packed cells as rows, beside the batch's own (the same every attempt: a retry's chunks are the first attempt's).
    const fromPacked = written.packed && written.packed.length > 0 ? packedRows(written.packed) : undefined;
    const batch: WriteBatch = fromPacked === undefined ? written : {
      ...written,
      counts: written.counts.length === 0 ? fromPacked.counts : written.counts.concat(fromPacked.counts),
      ...(fromPacked.traffic.length > 0 || written.traffic ? { traffic: (written.traffic ?? []).concat(fromPacked.traffic) } : {}),
    };
    const previous = this.pending.get(batch.id);
    const version = previous ?? this.nextVersion();
    if (previous === undefined) {
      if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value as string);
      this.pending.set(batch.id, version);
    }
    const sent = this.primary.commands;
    try {
      // The cubes' tables at once (each is retry-safe on its own: markers per table; docs/clickhouse.md, "The write path").
      await settled([
        this.writeCounts(batch, previous !== undefined),
        batch.traffic ? this.traffic.write(batch.id, batch.traffic, previous !== undefined) : undefined,
        batch.audience ? this.audience.write(batch.id, batch.audience, previous !== undefined) : undefined,
      ]);
      if (batch.origin) await this.origin.writeOrigin({ ...batch.origin, id: batch.origin.id ?? batch.id });
      await this.writeSamples(batch, version, previous !== undefined);
      if (batch.checkpoints.length > 0) await this.primary.exec(keyValueInsert(this.t('checkpoints'), batch.checkpoints, version), { settings: this.insertSettings });
    } catch (err) {
      // A first attempt that never reached the server (or whose first statement could not even be
      // built from the data) stored nothing: the writer may drop or split it.
      if (previous === undefined && this.primary.commands === sent && (neverConnected(err) || err instanceof SqlValueError)) {
        this.pending.delete(batch.id);
        throw markNotApplied(err);
      }
      throw err;
    }
    this.pending.delete(batch.id);
  }

  private get insertSettings(): { insert_distributed_sync?: 1; insert_quorum?: string; insert_quorum_timeout?: number } {
    // Wait until every shard committed, so a returned insert is durable and markers are visible;
    // replicated, until `insertQuorum` replicas of each shard hold it.
    // 10 s for the quorum (600 s by default): a replica cut off mid-insert must not hold the write for longer
    // than an ingest request waits (--ingest-commit-timeout-ms); the part may still land, and then the retry finds its markers.
    const quorum = this.names.replicated && (this.options.insertQuorum ?? 0) > 1
      ? { insert_quorum: String(this.options.insertQuorum), insert_quorum_timeout: 10_000 } : {};
    return this.names.cluster ? { insert_distributed_sync: 1, ...quorum } : {};
  }

  /**
   * Counts go to the detail table; its materialized views add them to every rollup level in the
   * same INSERT, after the detail parts are committed. A retry looks the batch's markers up in the
   * detail table and in each rollup: a group missing in the detail table (so in every rollup too) is
   * inserted there again; a group whose detail rows landed but whose view into a level failed is
   * inserted into that level alone (`levelInsert`, the view's sums computed here).
   */
  private async writeCounts(batch: WriteBatch, retry: boolean): Promise<void> {
    const chunks = chunkCounts(batch.id, batch.counts);
    if (chunks.length === 0) return;
    const queryId = (tag: string, level = ''): string => `livestats-${tag}${level}`;
    const w = new TsvBytes();
    const present = new Set<string>();
    const seen = (table: string, tag: string, key: string): string => `${table}\u0000${tag}\u0000${key}`;
    if (retry) {
      await this.waitUntilFinished(chunks.flatMap((c) => [queryId(c.tag), ...LEVELS.map((l) => queryId(c.tag, `-${l.table}`))]));
      for (const sql of markersQueries(this.t(COUNTS), chunks)) {
        for (const r of await this.primary.rows(sql, undefined, 'write')) present.add(seen(COUNTS, str(r.batch), groupKey(str(r.project), str(r.domain), num(r.minute))));
      }
      for (const level of LEVELS) {
        for (const sql of levelMarkersQueries(this.t(level.table), chunks)) {
          for (const r of await this.primary.rows(sql, undefined, 'write')) present.add(seen(level.table, str(r.batch), groupKey(str(r.project), str(r.domain), num(r.minute))));
        }
      }
      if (present.size > 0) await this.checkQuorum(COUNTS, (t) => markersQueries(t, chunks));
    }
    for (const chunk of chunks) {
      const missing = chunk.groups.filter((g) => !present.has(seen(COUNTS, chunk.tag, g.key)));
      if (missing.length > 0) {
        const insert = countsInsert(this.t(COUNTS), chunk, missing, w);
        await this.primary.exec(insert.statement, { body: insert.body, queryId: queryId(chunk.tag), settings: this.insertSettings });
      }
      if (!retry) continue;
      for (const level of LEVELS) {
        const repair = chunk.groups.filter((g) => present.has(seen(COUNTS, chunk.tag, g.key)) && !present.has(seen(level.table, chunk.tag, g.key)));
        if (repair.length === 0) continue;
        await this.primary.exec(levelInsert(this.t(level.table), level, chunk, repair), {
          queryId: queryId(chunk.tag, `-${level.table}`), settings: this.insertSettings,
        });
      }
    }
    if (retry) await this.bumpStamps(batch);
  }

  /**
   * A retry: an earlier attempt may have landed in the detail tables while its stamp view failed,
   * so every hour the batch touches gets a new stamp (a random tag, no rows): a node's block of
   * that hour, built before, is then stale (hour-blocks.ts).
   */
  private async bumpStamps(batch: WriteBatch): Promise<void> {
    const hours = new Map<string, [string, string, number]>();
    for (const c of batch.counts) {
      const hour = Math.floor(c.minute / 3_600_000);
      hours.set(`${c.project}\u0000${c.domain}\u0000${hour}`, [c.project, c.domain, hour]);
    }
    if (hours.size === 0) return;
    const values = [...hours.values()].map(([p, d, h]) => `(${quote(p)}, ${quote(d)}, ${quote(h)}, 0, ${quote(1 + Math.floor(Math.random() * 2 ** 52))})`);
    await this.primary.exec(`INSERT INTO ${this.t('http_counts_stamps')} (project, domain, hour, rows, tags) VALUES ${values.join(', ')}`,
      { settings: this.insertSettings });
  }

  /**
   * The bulk path (bulk.ts; benchmark datasets): one INSERT of VALUES rows made by bulkCountsValues
   * or bulkSamplesValues. Not retry-safe (no markers); the views fill the rollup levels.
   */
  async bulkInsert(kind: 'counts' | 'samples', values: string): Promise<void> {
    if (values === '') return;
    const [name, cols] = kind === 'counts' ? [COUNTS, BULK_COUNTS_COLUMNS] : ['carousel_samples', BULK_SAMPLES_COLUMNS];
    await this.primary.exec(`INSERT INTO ${this.t(name)} ${cols} VALUES ${values}`, { settings: this.insertSettings });
  }

  /** Registers bulk-loaded tasks with their newest sample (epoch second). */
  async bulkTasks(rows: readonly TaskRow[]): Promise<void> {
    if (rows.length > 0) await this.primary.exec(tasksInsert(this.t('carousel_tasks'), rows), { settings: this.insertSettings });
  }

  /**
   * Replicated layout with a quorum: the count groups an earlier attempt stored are taken as landed
   * only when `insertQuorum` servers hold them in their own table. A quorum insert that failed
   * waiting for its quorum leaves its part on fewer replicas; skipping it would confirm the batch
   * while one server holds it. A server that does not answer holds nothing here.
   */
  private async checkQuorum(name: string, queriesFor: (localTable: string) => string[]): Promise<void> {
    const quorum = this.names.replicated ? this.options.insertQuorum ?? 0 : 0;
    if (quorum <= 1) return;
    const holders = new Map<string, number>();
    for (const server of this.servers) {
      const found = new Set<string>();
      try {
        for (const sql of queriesFor(localTable(this.names, name))) {
          for (const r of await server.rows(sql, undefined, 'write')) found.add(Object.values(r).map(String).join('\u0000'));
        }
      } catch {
        continue;
      }
      for (const k of found) holders.set(k, (holders.get(k) ?? 0) + 1);
    }
    if ([...holders.values()].some((n) => n < quorum)) {
      throw new Error('an earlier attempt of this batch is on fewer replicas than the insert quorum; will retry');
    }
  }

  /** An earlier attempt may still be running on the server (client timeout): never race it. */
  private async waitUntilFinished(queryIds: string[]): Promise<void> {
    for (let i = 0; i < 20; i++) {
      const rows = await this.primary.rows(`SELECT count() AS n FROM system.processes WHERE query_id IN ${quoteList(queryIds)}`, undefined, 'write');
      if (num(rows[0]?.n) === 0) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error('an earlier attempt of this batch is still running in ClickHouse; will retry');
  }

  private async writeSamples(batch: WriteBatch, version: bigint, retry = false): Promise<void> {
    const last = taskTouches(batch);
    if (last.size === 0) return;
    const unknown = [...last].filter(([k]) => !this.tasks.has(k)).map(([, v]) => v);
    const created = new Map<string, number>();
    for (const part of slices(unknown)) {
      const rows = await this.primary.rows(`SELECT project, task_id, min(created_at) AS c FROM ${this.t('carousel_tasks')}
        WHERE (project, task_id) IN (${part.map((u) => `(${quote(u.project)}, ${quote(u.taskId)})`).join(', ')})
        GROUP BY project, task_id`, undefined, 'write');
      for (const r of rows) created.set(`${str(r.project)}\u0000${str(r.task_id)}`, num(r.c));
    }
    for (const sql of samplesInserts(this.t('carousel_samples'), batch.samples, version)) await this.primary.exec(sql, { settings: this.insertSettings });
    if (retry && batch.samples.length > 0) await this.bumpCarouselStamps(batch);
    const now = Date.now();
    const rows = [...last].map(([k, v]) => ({ ...v, createdAt: this.tasks.get(k) ?? created.get(k) ?? now }));
    await this.primary.exec(tasksInsert(this.t('carousel_tasks'), rows), { settings: this.insertSettings });
    for (const r of rows) this.tasks.set(`${r.project}\u0000${r.taskId}`, r.createdAt);
  }

  /**
   * A retry: the samples are inserted again (the newest version wins), but a replicated table may
   * deduplicate that insert, views included, so every hour the batch touches gets a new stamp (a
   * random tag, no rows): a node's carousel block of that hour is then stale (carousel-blocks.ts).
   */
  private async bumpCarouselStamps(batch: WriteBatch): Promise<void> {
    const hours = new Map<string, [string, string, number]>();
    for (const s of batch.samples) {
      const hour = Math.floor(s.second / 3_600_000);
      hours.set(`${s.project}\u0000${s.taskId}\u0000${hour}`, [s.project, s.taskId, hour]);
    }
    const values = [...hours.values()].map(([p, t, h]) => `(${quote(p)}, ${quote(t)}, ${quote(h)}, 0, ${quote(1 + Math.floor(Math.random() * 2 ** 52))})`);
    await this.primary.exec(`INSERT INTO ${this.t('carousel_stamps')} (project, task_id, hour, rows, tags) VALUES ${values.join(', ')}`,
      { settings: this.insertSettings });
  }

  async queryHttpCodes(f: HttpCodesFilter, o: QueryOptions = {}): Promise<CodeCount[]> {
    if (f.domains.length === 0 || f.toMinute <= f.fromMinute) return [];
    const fromBlocks = await this.hourBlocks?.columns(f, (fromMinute, toMinute) => this.queryHttpCodesSql({ ...f, fromMinute, toMinute }, o), o.signal);
    return fromBlocks ? columnsToCells(fromBlocks) : this.queryHttpCodesSql(f, o);
  }

  /** The counts by SQL: the smallest rollup level the filter allows. */
  private async queryHttpCodesSql(f: HttpCodesFilter, o: QueryOptions): Promise<CodeCount[]> {
    if (f.domains.length === 0 || f.toMinute <= f.fromMinute) return [];
    const filters = [
      `project = ${quote(f.project)}`,
      `domain IN ${quoteList(f.domains)}`,
      `minute >= ${quote(Math.floor(f.fromMinute / MIN))}`,
      `minute < ${quote(Math.ceil(f.toMinute / MIN))}`,
      'code > 0',
    ];
    if (f.regions.length > 0) filters.push(`region IN ${quoteList(f.regions)}`);
    if (f.isps.length > 0) filters.push(`isp IN ${quoteList(f.isps)}`);
    const where = filters.join(' AND ');
    const level = levelFor(f);
    // A rollup level holds every count (the backfill copied the older tables in); the detail level is
    // both tables: counts written before schema v3 stay in http_counts (see migration 003).
    const sql = level
      ? `SELECT minute, code, sum(count) AS n FROM ${this.t(level.table)} WHERE ${where} GROUP BY minute, code ORDER BY minute, code`
      : `SELECT minute, code, sum(n) AS n FROM (
        SELECT minute, code, sum(count) AS n FROM ${this.t('http_counts')} WHERE ${where} GROUP BY minute, code
        UNION ALL
        SELECT minute, code, sum(count) AS n FROM ${this.t(COUNTS)} WHERE ${where} GROUP BY minute, code
      ) GROUP BY minute, code ORDER BY minute, code`;
    return parseCodeCounts(await this.primary.tsv(sql, o.signal));
  }

  /**
   * The answer as bytes, rendered by the same byte renderer as the SQLite read workers (not through
   * JSON text): summed and rendered in the hour-block worker when the closed hours come from blocks,
   * else on the main thread here (~20x cheaper than httpCodesJson for a 24 h answer).
   */
  async httpCodesBody(f: HttpCodesFilter, codes: readonly number[], o: QueryOptions = {}): Promise<Uint8Array> {
    if (this.hourBlocks && f.domains.length > 0 && f.toMinute > f.fromMinute) {
      const body = await this.hourBlocks.body(f, codes, (fromMinute, toMinute) => this.queryHttpCodesSql({ ...f, fromMinute, toMinute }, o), o.signal);
      if (body) return body;
      return this.renderBody(f, codes, await this.queryHttpCodesSql(f, o));
    }
    return this.renderBody(f, codes, await this.queryHttpCodes(f, o));
  }

  private renderBody(f: HttpCodesFilter, codes: readonly number[], cells: CodeCount[]): Uint8Array {
    const q = { codes: [...codes], fromMinute: f.fromMinute, toMinute: f.toMinute };
    const cols = codeCountColumns(q, cells);
    return cols ? renderHttpCodes(q, cols) : Buffer.from(httpCodesJson({ ...q, domains: f.domains, regions: f.regions, isps: f.isps }, cells));
  }

  async querySamples(f: SampleFilter, o: QueryOptions = {}): Promise<CarouselSample[]> {
    if (f.to <= f.from) return [];
    const fromBlocks = await this.carouselBlocks?.samples(f, o.signal);
    if (fromBlocks) return fromBlocks;
    const rows = await this.primary.rows(samplesSql(this.t('carousel_samples'), f.project, f.taskId, Math.floor(f.from / SEC), Math.ceil(f.to / SEC)), o.signal);
    return toSamples(rows);
  }

  /** The carousel answer as bytes (carousel-blocks.ts: the blocks' hours copied in, else SQL), the SQLite store's bytes. */
  carouselBody(f: SampleFilter, o: QueryOptions = {}): Promise<Uint8Array> {
    return carouselBody(this.carouselBlocks, this.primary, this.t('carousel_samples'), f, o.signal);
  }

  /** A carousel, hour-block httpcodes, traffic-block detail, users or play-info body has been sent whole: its buffer is reused (other bodies are left alone). */
  releaseBody(bytes: Uint8Array): void {
    releaseCarouselBody(bytes);
    this.hourBlocks?.release(bytes);
    this.traffic.blocks?.release(bytes);
    this.audience.bodies?.release(bytes);
    this.audience.playBlocks?.release(bytes);
  }

  async taskExists(project: string, taskId: string, o: QueryOptions = {}): Promise<boolean> {
    if (this.tasks.has(`${project}\u0000${taskId}`)) return true;
    const rows = await this.primary.rows(`SELECT min(created_at) AS c, count() AS n FROM ${this.t('carousel_tasks')}
      WHERE project = ${quote(project)} AND task_id = ${quote(taskId)}`, o.signal);
    if (num(rows[0]?.n) === 0) return false;
    this.tasks.set(`${project}\u0000${taskId}`, num(rows[0]?.c));
    return true;
  }

  async listTasks(project: string, lane: Lane = 'read'): Promise<TaskInfo[]> {
    const rows = await this.primary.rows(`SELECT task_id, min(created_at) AS c, max(last_sample) AS l
      FROM ${this.t('carousel_tasks')} WHERE project = ${quote(project)} GROUP BY task_id ORDER BY task_id`, undefined, lane);
    return rows.map((r) => ({
      taskId: str(r.task_id), createdAt: num(r.c), lastSampleAt: num(r.l) === 0 ? null : num(r.l) * SEC,
    }));
  }

  /**
   * The names a project has stored (for the caps). ClickHouse keeps names as strings, so it has no
   * id space to run out of (no nameSpace()); the per-project caps bound its cardinality the same.
   * Read on the write path's socket pool: ingest waits for it (a project's first batch), not a query.
   */
  async storedNames(project: string): Promise<StoredNames> {
    const p = quote(project);
    const domains = await this.storedDomains(project, 'write');
    const streamRows = await this.primary.rows(`SELECT DISTINCT domain, app, stream FROM ${this.t('traffic_streams')}
      WHERE project = ${p} AND (app != '' OR stream != '')`, undefined, 'write');
    const tasks = await this.listTasks(project, 'write');
    return {
      domains,
      streams: streamRows.map((r) => [str(r.domain), str(r.app), str(r.stream)]),
      tasks: tasks.map((t) => t.taskId),
    };
  }

  /** The play domains of a project (playback or traffic counts), without reading its streams. */
  async storedDomains(project: string, lane?: Lane): Promise<string[]> {
    const p = quote(project);
    const rows = await this.primary.rows(`SELECT DISTINCT domain FROM (
      SELECT domain FROM ${this.t('http_counts_all')} WHERE project = ${p}
      UNION ALL SELECT domain FROM ${this.t('traffic_domains')} WHERE project = ${p})`, undefined, lane);
    return rows.map((r) => str(r.domain));
  }

  /** On the write path's socket pool: the X-Batch-Id check (getCheckpoint) must not wait behind slow queries. */
  private async latest(name: string, key: string): Promise<string | undefined> {
    const rows = await this.primary.rows(`SELECT argMax(value, version) AS v FROM ${this.t(name)}
      WHERE key = ${quote(key)} GROUP BY key`, undefined, 'write');
    return rows.length === 0 ? undefined : str(rows[0]?.v);
  }

  getCheckpoint(key: string): Promise<string | undefined> {
    return this.latest('checkpoints', key);
  }

  getMeta(key: string): Promise<string | undefined> {
    return this.latest('meta', key);
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.primary.exec(keyValueInsert(this.t('meta'), [{ key, value }], this.nextVersion()), { settings: this.insertSettings });
  }

  /** Drops whole UTC-day partitions before the cutoff's day on every server (rows of that day stay). */
  async deleteBefore(cutoff: number): Promise<void> {
    for (const server of this.servers) {
      for (const sql of await retentionDrops(server, this.names, cutoff)) await server.exec(sql);
    }
  }

  writeQuality(rows: readonly QualityRow[]): Promise<void> {
    return this.quality.writeQuality(rows);
  }

  queryQuality(f: QualityFilter, o: QueryOptions = {}): Promise<QualitySample[]> {
    return this.quality.queryQuality(f, o);
  }

  /**
   * Publish-side rows, then (separate inserts: not atomic on ClickHouse) the audience cells of plays
   * that ended, under the batch's id: sending the same batch again after a failure stores only what is
   * missing (origin-batch.ts; the audience cube's markers).
   */
  async writeOrigin(batch: OriginBatch): Promise<void> {
    const { audience, ...origin } = batch;
    await this.origin.writeOrigin(origin);
    if (audience && audience.length > 0) await this.write({ id: batch.id ?? randomUUID(), counts: [], samples: [], tasks: [], checkpoints: [], audience });
  }

  liveStreams(f: LiveStreamsFilter, o: QueryOptions = {}): Promise<SessionPage> {
    return this.origin.liveStreams(f, o);
  }

  historySessions(f: HistoryFilter, o: QueryOptions = {}): Promise<SessionPage> {
    return this.origin.historySessions(f, o);
  }

  streamCounts(f: StreamCountFilter, o: QueryOptions = {}): Promise<Float64Array> {
    return this.origin.streamCounts(f, o);
  }

  upBytesSeries(f: UpBandwidthFilter, o: QueryOptions = {}): Promise<Float64Array> {
    return this.origin.upBytesSeries(f, o);
  }

  openSessions(o: QueryOptions = {}): Promise<PublishSession[]> {
    return this.origin.openSessions(o);
  }

  openPlays(o: QueryOptions = {}): Promise<PlaySession[]> {
    return this.origin.openPlays(o);
  }

  playSessions(project: string, from: number, to: number, o: QueryOptions = {}): Promise<PlaySession[]> {
    return this.origin.playSessions(project, from, to, o);
  }

  trafficSeries(f: TrafficFilter, o: QueryOptions = {}): Promise<Float64Array> {
    return this.traffic.trafficSeries(f, o);
  }

  trafficDetailBody(f: TrafficFilter, kind: DetailKind, o: QueryOptions = {}): Promise<Uint8Array> {
    return this.traffic.trafficDetailBody(f, kind, o);
  }

  trafficByDomain(f: TrafficFilter, o: QueryOptions = {}): Promise<Map<string, Float64Array>> {
    return this.traffic.trafficByDomain(f, o);
  }

  trafficDomains(project: string, o: QueryOptions = {}): Promise<string[]> {
    return this.traffic.trafficDomains(project, o);
  }

  // The audience cube (src/store/audience.ts; issue 21): reads and retention.
  usersSeries(f: UsersFilter, o: QueryOptions = {}): Promise<Float64Array> {
    return this.audience.usersSeries(f, o);
  }

  /** The users answer rendered off the main thread (AudienceBodies; users-bodies.ts): the bytes renderUsers gives for usersSeries. */
  usersBody(f: UsersFilter, o: QueryOptions = {}): Promise<Uint8Array> {
    return this.audience.usersBody(f, o);
  }

  playInfo(f: PlayInfoFilter, o: QueryOptions = {}): Promise<PlayInfoRow[]> {
    return this.audience.playInfo(f, o);
  }

  /** The play-info answer as bytes (AudienceBodies): the blocks' entries copied in order (play-info-blocks.ts), the SQLite store's bytes. */
  playInfoBody(f: PlayInfoFilter, o: QueryOptions = {}): Promise<Uint8Array> {
    return this.audience.playInfoBody(f, o);
  }

  async streamPortrait(f: PortraitFilter, o: QueryOptions = {}): Promise<PortraitDay> {
    const day = await this.audience.streamPortrait(f, o);
    // push_duration (issue 23): a stream's portrait only; the whole domain's stays 0.
    if (f.stream === undefined) return day;
    return { ...day, pushSeconds: await this.origin.pushSeconds(f.project, f.stream, f.day, Date.now(), o) };
  }

  audienceDomains(project: string, o: QueryOptions = {}): Promise<string[]> {
    return this.audience.audienceDomains(project, o);
  }

  /** Drops the audience tables' UTC-day partitions before the cutoff's day on every server. */
  async deleteAudienceBefore(cutoff: number): Promise<void> {
    for (const server of this.servers) {
      for (const sql of await retentionDrops(server, this.names, cutoff, AUDIENCE_TABLES)) await server.exec(sql);
    }
  }

  /** Drops the traffic tables' UTC-day partitions before the cutoff's day on every server, and the publish side's (kept as long, as on SQLite). */
  async deleteTrafficBefore(cutoff: number): Promise<void> {
    for (const server of this.servers) {
      for (const sql of await retentionDrops(server, this.names, cutoff, TRAFFIC_DAY_PARTITIONED)) await server.exec(sql);
      for (const sql of await originRetentionDrops(server, this.names, cutoff)) await server.exec(sql);
    }
  }

  /** Closed hours of the traffic cube's per-domain totals in memory, or undefined (options.hourBlocks false). */
  get trafficBlocks(): TrafficBlocks | undefined {
    return this.traffic.blocks;
  }

  /** Closed hours of the traffic cube's filtered cells in memory, or undefined (options.hourBlocks false). */
  get trafficCells(): TrafficCells | undefined {
    return this.traffic.cells;
  }

  /** Closed hours of each domain's audience in memory, or undefined (options.hourBlocks false). */
  get audienceBlocks(): AudienceBlocks | undefined {
    return this.audience.blocks;
  }

  /** The users answers' renderers off the main thread (users-bodies.ts; tests read their counters). */
  get usersBodies(): UsersBodies | undefined {
    return this.audience.bodies;
  }

  /** Closed days' distinct users of each domain in memory, or undefined (options.hourBlocks false). */
  get audienceUsersBlocks(): AudienceUsersBlocks | undefined {
    return this.audience.usersBlocks;
  }

  /** Closed days' whole-domain portraits in memory, or undefined (options.hourBlocks false). */
  get portraitDays(): PortraitDays | undefined {
    return this.audience.portraitDays;
  }

  /** Closed hours of each domain's play-info rows in memory, or undefined (options.hourBlocks false). */
  get playInfoBlocks(): PlayInfoBlocks | undefined {
    return this.audience.playBlocks;
  }

  async close(): Promise<void> {
    await this.traffic.blocks?.close();
    this.traffic.cells?.close();
    this.audience.blocks?.close();
    this.audience.playBlocks?.close();
    this.audience.usersBlocks?.close();
    await this.audience.bodies?.close();
    this.audience.portraitDays?.close();
    this.carouselBlocks?.close();
    await this.hourBlocks?.close();
    await Promise.all(this.servers.map((s) => s.close()));
  }
}
