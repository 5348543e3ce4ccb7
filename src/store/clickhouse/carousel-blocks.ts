import type { CarouselSample, SampleFilter } from '../types.js';
import { BlockCache, EMPTY_STAMP, type HourBlocksOptions, type StampedBlock } from './block-cache.js';
import { num, type ChConnection } from './client.js';
import { table, type SchemaNames } from './schema.js';
import { quote } from './sql.js';
import { stampKey, StampReads } from './stamp-reads.js';

const SEC = 1000;
const HOUR = 3_600_000;
/** Blocks kept at most (a full hour: 3,600 samples, ~60 KB). */
const MAX_BLOCKS = 2000;

interface Block extends StampedBlock {
  /** The hour's samples in second order (the argMax of each second over versions). */
  samples: CarouselSample[];
}

/** The samples of [from, to) of a task, one per second (newest version), in order: the SQL both the blocks and the store read. */
export function samplesSql(samplesTable: string, project: string, taskId: string, fromSecond: number, toSecond: number): string {
  return `SELECT second,
      argMax(video_fps, version) AS vf, argMax(video_kbps, version) AS vk,
      argMax(audio_fps, version) AS af, argMax(audio_kbps, version) AS ak
    FROM ${samplesTable}
    WHERE project = ${quote(project)} AND task_id = ${quote(taskId)}
      AND second >= ${quote(fromSecond)} AND second < ${quote(toSecond)}
    GROUP BY second ORDER BY second`;
}

export function toSamples(rows: ReadonlyArray<Record<string, unknown>>): CarouselSample[] {
  return rows.map((r) => ({ second: num(r.second) * SEC, videoFps: num(r.vf), videoKbps: num(r.vk), audioFps: num(r.af), audioKbps: num(r.ak) }));
}

/**
 * Closed hours of a carousel task's samples kept in this node's memory, per (project, task, hour),
 * checked against the stamps of migration 012 by the rule of the request counts' hour blocks
 * (hour-blocks.ts): every insert into carousel_samples changes its hours' stamps, a retried write
 * bumps them, a block is kept only when the stamps before and after its rows agree, and a query
 * uses a block only when its stamp is current (one shared stamps read, stamp-reads.ts). Hours
 * without a current block, the edges and the hour being written are read by SQL; more than
 * maxSqlRuns such reads, or no block at all: the whole query by SQL.
 */
export class CarouselBlocks {
  private readonly cache: BlockCache<Block>;
  readonly stats: BlockCache<Block>['stats'];

  constructor(private readonly server: ChConnection, private readonly names: SchemaNames, options: HourBlocksOptions = {}) {
    this.cache = new BlockCache<Block>(new StampReads(server, table(names, 'carousel_stamps'), 'task_id'), options, MAX_BLOCKS);
    this.stats = this.cache.stats;
  }

  /** querySamples from blocks plus SQL, or undefined: the whole query by SQL. */
  async samples(f: SampleFilter, signal?: AbortSignal, now = Date.now()): Promise<CarouselSample[] | undefined> {
    if (this.cache.closed || f.from % SEC !== 0) return undefined;
    const firstHour = Math.ceil(f.from / HOUR);
    const endHour = this.cache.endHour(f.to, now);
    if (endHour <= firstHour) return undefined;
    const stamps = await this.cache.stampReads.read(f.project, [f.taskId], firstHour, endHour);
    if (signal?.aborted) return undefined;
    // The window in order: SQL runs (edges and hours without a current block) and blocks.
    const parts: Array<{ sql: [number, number] } | { block: Block }> = [];
    const sqlPart = (a: number, b: number): void => {
      if (b <= a) return;
      const last = parts[parts.length - 1];
      if (last && 'sql' in last && last.sql[1] === a) last.sql[1] = b;
      else parts.push({ sql: [a, b] });
    };
    sqlPart(f.from, firstHour * HOUR);
    const stale: number[] = [];
    for (let h = firstHour; h < endHour; h++) {
      const b = this.cache.current(stampKey(f.project, f.taskId, h), stamps, now);
      if (!b) {
        stale.push(h);
        sqlPart(h * HOUR, (h + 1) * HOUR);
      } else {
        parts.push({ block: b });
      }
    }
    sqlPart(endHour * HOUR, f.to);
    if (stale.length > 0) this.schedule(f.project, f.taskId, stale);
    const runs = parts.filter((p): p is { sql: [number, number] } => 'sql' in p);
    if (this.cache.bySql(runs.length, stale.length, endHour - firstHour)) return undefined;
    const t = table(this.names, 'carousel_samples');
    const read = await Promise.all(runs.map((p) => this.server.rows(
      samplesSql(t, f.project, f.taskId, Math.floor(p.sql[0] / SEC), Math.ceil(p.sql[1] / SEC)), signal)));
    const out: CarouselSample[] = [];
    let r = 0;
    for (const p of parts) {
      if ('sql' in p) out.push(...toSamples(read[r++] ?? []));
      else for (const s of p.block.samples) out.push({ ...s });
    }
    this.cache.answered(stale.length);
    return out;
  }

  private schedule(project: string, taskId: string, hours: number[]): void {
    for (const h of hours) {
      const k = stampKey(project, taskId, h);
      if (this.cache.claim(k)) this.cache.enqueue(() => this.build(project, taskId, h), () => [k]);
    }
  }

  private async stamp(project: string, taskId: string, hour: number): Promise<string> {
    const rows = await this.server.rows(`SELECT sum(rows) AS r, sum(tags) AS t, count() AS n FROM ${table(this.names, 'carousel_stamps')}
      WHERE project = ${quote(project)} AND task_id = ${quote(taskId)} AND hour = ${quote(hour)}`);
    const row = rows[0];
    return !row || num(row.n) === 0 ? EMPTY_STAMP : `${String(row.r)}:${String(row.t)}`;
  }

  private async build(project: string, taskId: string, hour: number): Promise<void> {
    if (this.cache.closed) return;
    const before = await this.stamp(project, taskId, hour);
    const rows = await this.server.rows(samplesSql(table(this.names, 'carousel_samples'), project, taskId, hour * 3600, hour * 3600 + 3600));
    const after = await this.stamp(project, taskId, hour);
    if (before !== after) {
      this.stats.discarded++;
      return;
    }
    this.cache.put(stampKey(project, taskId, hour), { stamp: before, builtAt: Date.now(), samples: toSamples(rows) });
    this.stats.built++;
  }

  close(): void {
    this.cache.closed = true;
  }
}
