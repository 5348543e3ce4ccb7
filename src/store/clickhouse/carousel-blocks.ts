import { assembleCarousel, renderCarousel, renderSampleLists, type SampleColumns, type SampleLists } from '../../contract/carousel-body.js';
import { giveSpare } from '../../contract/json-bytes.js';
import type { CarouselSample, SampleFilter } from '../types.js';
import { BlockCache, EMPTY_STAMP, HOUR_BLOCK_DEFAULTS, type HourBlocksOptions, type StampedBlock } from './block-cache.js';
import { num, type ChConnection } from './client.js';
import { table, type SchemaNames } from './schema.js';
import { quote } from './sql.js';
import { stampKey, StampReads } from './stamp-reads.js';

const SEC = 1000;
const HOUR = 3_600_000;
const HOUR_SECONDS = 3600;
/** The share of --clickhouse-hour-blocks-mib the carousel hours may take (a full hour: ~55 KB of rendered lists). */
export const CAROUSEL_BLOCKS_SHARE = 1 / 8;
/** What a block weighs: its rendered lists and presence bits, plus the bookkeeping's overhead. */
const weigh = (b: Block): number => b.lists.bytes.byteLength + b.present.byteLength + 256;

interface Block extends StampedBlock {
  /** The hour's four lists as the answer's bytes (3,600 seconds; 0 where no sample): an answer copies them. */
  lists: SampleLists;
  /** Which seconds of the hour have a sample, one bit each (querySamples makes its objects from the lists). */
  present: Uint8Array;
}

/** A stretch of an answer: read by SQL ([from, to) epoch ms), or an hour's block. */
type Part = { sql: [number, number] } | { block: Block; hour: number };

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
 * samplesSql's TabSeparated answer (whole numbers: the columns are UInt32) as the columns of seconds
 * [fromSecond, toSecond): no object per row. Throws on anything but digits, tabs and line ends.
 */
export function parseSampleColumns(text: string, fromSecond: number, toSecond: number): SampleColumns {
  const n = Math.max(0, toSecond - fromSecond);
  const present = new Uint8Array(n);
  const values = new Float64Array(n * 4);
  const row = [0, 0, 0, 0, 0];
  let field = 0;
  let v = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 10;
    if (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      digits++;
      continue;
    }
    if (c !== 9 && c !== 10) throw new Error('carousel samples: not a whole number');
    if (digits === 0) {
      if (c === 10 && field === 0) continue; // the last line's end
      throw new Error('carousel samples: an empty field');
    }
    row[field++] = v;
    v = 0;
    digits = 0;
    if (c === 9) {
      if (field === 5) throw new Error('carousel samples: more than 5 fields');
      continue;
    }
    if (field !== 5) throw new Error('carousel samples: fewer than 5 fields');
    field = 0;
    const at = (row[0] as number) - fromSecond;
    if (at < 0 || at >= n) continue;
    present[at] = 1;
    for (let m = 0; m < 4; m++) values[at * 4 + m] = row[m + 1] as number;
  }
  return { from: fromSecond * SEC, present, values };
}

/** The samples of columns (the seconds that have one), in order. */
function columnsToSamples(c: SampleColumns, out: CarouselSample[]): void {
  const v = c.values;
  for (let i = 0; i < c.present.length; i++) {
    if (c.present[i] === 0) continue;
    out.push({ second: c.from + i * SEC, videoFps: v[i * 4] as number, videoKbps: v[i * 4 + 1] as number, audioFps: v[i * 4 + 2] as number, audioKbps: v[i * 4 + 3] as number });
  }
}

/** A block's samples (its lists read back: the numbers are what they were rendered from). */
function blockSamples(b: Block, hour: number, out: CarouselSample[]): void {
  const text = Buffer.from(b.lists.bytes.buffer, b.lists.bytes.byteOffset, b.lists.bytes.byteLength).toString('latin1');
  const lists = [0, 1, 2, 3].map((m) => text.slice(m === 0 ? 0 : b.lists.ends[m - 1], b.lists.ends[m]).split(',').map(Number));
  const [vf, vk, af, ak] = lists as [number[], number[], number[], number[]];
  for (let i = 0; i < HOUR_SECONDS; i++) {
    if (((b.present[i >> 3] as number) & (1 << (i & 7))) === 0) continue;
    out.push({ second: hour * HOUR + i * SEC, videoFps: vf[i] as number, videoKbps: vk[i] as number, audioFps: af[i] as number, audioKbps: ak[i] as number });
  }
}

/** Reads seconds [from, to) of a task (epoch ms; `to` rounded up to a whole second) by SQL, as columns. */
export async function readSampleColumns(server: ChConnection, samplesTable: string, project: string, taskId: string,
  from: number, to: number, signal?: AbortSignal): Promise<SampleColumns> {
  const a = Math.floor(from / SEC);
  const b = Math.ceil(to / SEC);
  return parseSampleColumns(await server.tsv(samplesSql(samplesTable, project, taskId, a, b), signal), a, b);
}

/**
 * Closed hours of a carousel task's samples kept in this node's memory, per (project, task, hour),
 * as the answer's bytes (the hour's four lists rendered once, when the block is built): an answer
 * from blocks is the SQL-read stretches rendered and the blocks' bytes copied in
 * (assembleCarousel), no object per second. Checked against the stamps of migration 012 by the
 * rule of the request counts' hour blocks (hour-blocks.ts): every insert into carousel_samples
 * changes its hours' stamps, a retried write bumps them, a block is kept only when the stamps before
 * and after its rows agree, and a query uses a block only when its stamp is current (one shared
 * stamps read, stamp-reads.ts). Hours without a current block, the edges and the hour being written
 * are read by SQL; more than maxSqlRuns such reads, or no block at all: the whole query by SQL.
 */
export class CarouselBlocks {
  private readonly cache: BlockCache<Block>;
  readonly stats: BlockCache<Block>['stats'];

  /** `budgetBytes`: the most the blocks may weigh together (a share of --clickhouse-hour-blocks-mib); least recently built dropped first. */
  constructor(private readonly server: ChConnection, private readonly names: SchemaNames, options: HourBlocksOptions = {}, budgetBytes = HOUR_BLOCK_DEFAULTS.budgetBytes * CAROUSEL_BLOCKS_SHARE) {
    this.cache = new BlockCache<Block>(new StampReads(server, table(names, 'carousel_stamps'), 'task_id'), options, budgetBytes, weigh);
    this.stats = this.cache.stats;
  }

  /** querySamples from blocks plus SQL, or undefined: the whole query by SQL. */
  async samples(f: SampleFilter, signal?: AbortSignal, now = Date.now()): Promise<CarouselSample[] | undefined> {
    const plan = await this.plan(f, signal, now);
    if (!plan) return undefined;
    const out: CarouselSample[] = [];
    let r = 0;
    for (const p of plan.parts) {
      if ('sql' in p) columnsToSamples(plan.read[r++] as SampleColumns, out);
      else blockSamples(p.block, p.hour, out);
    }
    return out;
  }

  /**
   * The carousel answer's bytes (renderCarousel's over seconds [f.from, f.to)) from blocks plus SQL,
   * or undefined: the whole query by SQL.
   */
  async body(f: SampleFilter, signal?: AbortSignal, now = Date.now()): Promise<Uint8Array | undefined> {
    const plan = await this.plan(f, signal, now);
    if (!plan) return undefined;
    const n = Math.max(0, Math.floor((f.to - f.from) / SEC));
    const lists: SampleLists[] = [];
    let done = 0;
    let r = 0;
    for (const [i, p] of plan.parts.entries()) {
      if ('block' in p) {
        lists.push(p.block.lists);
        done += HOUR_SECONDS;
        continue;
      }
      // Whole seconds (from is whole, hours are), but the last stretch ends where the answer does (its end may fall inside a second).
      const count = i === plan.parts.length - 1 ? n - done : (p.sql[1] - p.sql[0]) / SEC;
      lists.push(renderSampleLists(p.sql[0], count, plan.read[r++] as SampleColumns));
      done += count;
    }
    return assembleCarousel({ start: f.from, end: f.to }, lists);
  }

  /** The stretches of an answer in order, the SQL ones read (as columns), or undefined: the whole query by SQL. */
  private async plan(f: SampleFilter, signal: AbortSignal | undefined, now: number): Promise<{ parts: Part[]; read: SampleColumns[] } | undefined> {
    if (this.cache.closed || f.from % SEC !== 0) return undefined;
    const firstHour = Math.ceil(f.from / HOUR);
    const endHour = this.cache.endHour(f.to, now);
    if (endHour <= firstHour) return undefined;
    const stamps = await this.cache.stampReads.read(f.project, [f.taskId], firstHour, endHour);
    if (signal?.aborted) return undefined;
    // The window in order: SQL runs (edges and hours without a current block) and blocks.
    const parts: Part[] = [];
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
        parts.push({ block: b, hour: h });
      }
    }
    sqlPart(endHour * HOUR, f.to);
    if (stale.length > 0) this.schedule(f.project, f.taskId, stale);
    const runs = parts.filter((p): p is { sql: [number, number] } => 'sql' in p);
    if (this.cache.bySql(runs.length, stale.length, endHour - firstHour)) return undefined;
    const t = table(this.names, 'carousel_samples');
    const read = await Promise.all(runs.map((p) => readSampleColumns(this.server, t, f.project, f.taskId, p.sql[0], p.sql[1], signal)));
    this.cache.answered(stale.length);
    return { parts, read };
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
    const cols = await readSampleColumns(this.server, table(this.names, 'carousel_samples'), project, taskId, hour * HOUR, (hour + 1) * HOUR);
    const after = await this.stamp(project, taskId, hour);
    if (before !== after) {
      this.stats.discarded++;
      return;
    }
    const present = new Uint8Array(HOUR_SECONDS / 8);
    for (let i = 0; i < HOUR_SECONDS; i++) if (cols.present[i] !== 0) present[i >> 3] = (present[i >> 3] as number) | (1 << (i & 7));
    this.cache.put(stampKey(project, taskId, hour), { stamp: before, builtAt: Date.now(), lists: renderSampleLists(hour * HOUR, HOUR_SECONDS, cols), present });
    this.stats.built++;
  }

  close(): void {
    this.cache.closed = true;
  }
}

/**
 * The answers carouselBody rendered on this thread, until they are given back (releaseCarouselBody): by view, not by
 * buffer, since a buffer given back is the next answer's, so an old view of it given again must not give it back.
 */
const rendered = new WeakSet<Uint8Array>();

/**
 * A body from carouselBody has been sent whole (ClickHouseStore.releaseBody): its buffer is reused by
 * the next rendering (json-bytes.ts giveSpare) instead of ~160 KB of new external memory per answer.
 * Anything else (the httpcodes answers, a body given twice, even once its memory is another answer's) is left alone.
 */
export function releaseCarouselBody(bytes: Uint8Array): void {
  const buffer = bytes.buffer;
  if (!rendered.delete(bytes) || !(buffer instanceof ArrayBuffer)) return;
  giveSpare(buffer);
}

/**
 * ClickHouseStore.carouselBody: the answer's bytes from the carousel blocks (`blocks`) when they can
 * give it, else read by SQL as columns and rendered by the SQLite read workers' renderer (the same bytes).
 */
export async function carouselBody(blocks: CarouselBlocks | undefined, server: ChConnection, samplesTable: string, f: SampleFilter, signal?: AbortSignal): Promise<Uint8Array> {
  signal?.throwIfAborted();
  const q = { start: f.from, end: f.to };
  const out = f.to <= f.from
    ? renderCarousel(q, { from: f.from, present: new Uint8Array(0), values: new Float64Array(0) })
    : await blocks?.body(f, signal) ?? renderCarousel(q, await readSampleColumns(server, samplesTable, f.project, f.taskId, f.from, f.to, signal));
  if (out.buffer instanceof ArrayBuffer) rendered.add(out);
  return out;
}
