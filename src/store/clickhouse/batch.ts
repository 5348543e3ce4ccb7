import type { Checkpoint, CountRow, SampleRow, WriteBatch } from '../types.js';
import { cellValue } from '../cell-values.js';
import { quote, quoteList, TsvBytes, type InsertData } from './sql.js';
import { lastPerKey } from './versions.js';

/**
 * How one WriteBatch becomes INSERT statements, and how a retry finds what already landed.
 *
 * Counts are additive, so writing the same rows twice would double them. ClickHouse 18.16
 * only deduplicates inserts into Replicated* tables, so livestats makes a retried write
 * safe itself:
 * - The batch's count rows are cut into chunks (deterministically: a retry sees the same
 *   chunks), one INSERT each, small enough to be a single block.
 * - Each chunk carries one marker row per (project, domain, UTC day) group it touches,
 *   tagged `<batch id>#<chunk>`. A marker lands in the same table, partition and shard
 *   (the Distributed table shards by (project, domain)) as its group's rows, so it is
 *   written into the same part, and a part is committed atomically: a marker is present
 *   exactly when its group's rows are.
 * - A write that failed is retried with the same batch id. The retry first looks up the
 *   markers of the batch and inserts only the groups whose marker is missing.
 * Samples, tasks and checkpoints are replacing tables: writing them again is harmless.
 */

export const CHUNK_ROWS = 20_000;
const MIN = 60_000;
const SEC = 1000;
const DAY_MINUTES = 1440;
const UINT32_MAX = 4_294_967_295;

export interface CountGroup {
  key: string;
  project: string;
  domain: string;
  /** Epoch minute of the marker row: the start of the group's UTC day. */
  markerMinute: number;
  rows: CountRow[];
}

export interface CountChunk {
  tag: string;
  groups: CountGroup[];
}

export const groupKey = (project: string, domain: string, markerMinute: number): string =>
  `${project}\u0000${domain}\u0000${markerMinute}`;

/** Cuts counts into chunks of at most `maxRows` rows, each grouped by (project, domain, day). */
export function chunkCounts(batchId: string, counts: readonly CountRow[], maxRows = CHUNK_ROWS): CountChunk[] {
  const chunks: CountChunk[] = [];
  for (let start = 0; start < counts.length; start += maxRows) {
    const groups = new Map<string, CountGroup>();
    let last: CountGroup | undefined;
    const end = Math.min(counts.length, start + maxRows);
    for (let i = start; i < end; i++) {
      const r = counts[i] as CountRow;
      const markerMinute = Math.floor(r.minute / MIN / DAY_MINUTES) * DAY_MINUTES;
      // Neighbouring rows mostly share a group: no key string for them.
      let g = last !== undefined && last.markerMinute === markerMinute && last.domain === r.domain && last.project === r.project ? last : undefined;
      if (!g) {
        const key = groupKey(r.project, r.domain, markerMinute);
        g = groups.get(key);
        if (!g) groups.set(key, (g = { key, project: r.project, domain: r.domain, markerMinute, rows: [] }));
      }
      g.rows.push(r);
      last = g;
    }
    chunks.push({ tag: `${batchId}#${chunks.length}`, groups: [...groups.values()] });
  }
  return chunks;
}

const tuple = (values: Array<string | number>): string => '(' + values.map(quote).join(', ') + ')';

/** INSERT (TabSeparated data, as bytes) for the given groups of a chunk: their rows plus one marker row each. */
export function countsInsert(table: string, chunk: CountChunk, groups: readonly CountGroup[], w = new TsvBytes()): InsertData {
  const tag = w.escaped(chunk.tag);
  for (const g of groups) {
    const project = w.escaped(g.project);
    const domain = w.escaped(g.domain);
    for (const r of g.rows) {
      w.raw(project).tab().raw(domain).tab().int(Math.floor(r.minute / MIN)).tab().str(r.region).tab().str(r.isp).tab().int(r.code).tab()
        .tab().int(u64(r.count)).tab().int(0).tab().int(u64(r.bytes ?? 0)).end();
    }
    w.raw(project).tab().raw(domain).tab().int(g.markerMinute).tab().tab().tab().int(0).tab().raw(tag).tab().int(0).tab().int(1).tab().int(0).end();
  }
  return {
    statement: `INSERT INTO ${table} (project, domain, minute, region, isp, code, batch, count, markers, bytes) FORMAT TabSeparated`,
    body: w.take(),
  };
}

/**
 * Keeps every SELECT far below ClickHouse's max_query_size (256 KiB by default; INSERT data
 * is not bound by it): at most this many keys per IN list.
 */
export const MAX_KEYS_PER_QUERY = 300;

export function slices<T>(items: readonly T[], size = MAX_KEYS_PER_QUERY): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** SELECTs of the markers of these chunks that are present: columns batch, project, domain, minute. */
export function markersQueries(table: string, chunks: readonly CountChunk[]): string[] {
  const pairs = chunks.flatMap((c) => c.groups.map((g) => ({ tag: c.tag, g })));
  return slices(pairs).map((part) => {
    const keys = part.map(({ g }) => tuple([g.project, g.domain, g.markerMinute]));
    return `SELECT DISTINCT batch, project, domain, minute FROM ${table}
    WHERE (project, domain, minute) IN (${keys.join(', ')}) AND region = '' AND isp = '' AND code = 0
      AND batch IN ${quoteList([...new Set(part.map((p) => p.tag))])}`;
  });
}

/** The same for a rollup level's table (no region/isp columns there: a marker is any row with markers > 0). */
export function levelMarkersQueries(table: string, chunks: readonly CountChunk[]): string[] {
  const pairs = chunks.flatMap((c) => c.groups.map((g) => ({ tag: c.tag, g })));
  return slices(pairs).map((part) => {
    const keys = part.map(({ g }) => tuple([g.project, g.domain, g.markerMinute]));
    return `SELECT DISTINCT batch, project, domain, minute FROM ${table}
    WHERE (project, domain, minute) IN (${keys.join(', ')}) AND markers > 0
      AND batch IN ${quoteList([...new Set(part.map((p) => p.tag))])}`;
  });
}

/** A count or bytes as a whole number in UInt64's exact JavaScript range (see cellValue). */
const u64 = cellValue;

const u32 = (n: number): number => Math.min(UINT32_MAX, Math.max(0, Math.round(n)));

/** INSERTs for samples (values rounded and clamped to UInt32), at most CHUNK_ROWS rows each. */
export function samplesInserts(table: string, written: readonly SampleRow[], version: bigint): string[] {
  const out: string[] = [];
  // The batch's rows share its version, so one row per second of a task: the later one (versions.ts).
  const samples = lastPerKey(written, (s) => `${s.project}\u0000${s.taskId}\u0000${Math.floor(s.second / SEC)}`);
  for (let start = 0; start < samples.length; start += CHUNK_ROWS) {
    const values = samples.slice(start, start + CHUNK_ROWS).map((s) =>
      '(' + [quote(s.project), quote(s.taskId), quote(Math.floor(s.second / SEC)), quote(version),
        quote(u32(s.videoFps)), quote(u32(s.videoKbps)), quote(u32(s.audioFps)), quote(u32(s.audioKbps))].join(', ') + ')');
    out.push(`INSERT INTO ${table} (project, task_id, second, version, video_fps, video_kbps, audio_fps, audio_kbps) VALUES ${values.join(', ')}`);
  }
  return out;
}

export interface TaskRow {
  project: string;
  taskId: string;
  createdAt: number;
  /** Epoch second of the newest sample in this batch, 0 for none. */
  lastSample: number;
}

/** The tasks a batch registers or samples, keyed by project NUL task, with their newest sample second. */
export function taskTouches(batch: WriteBatch): Map<string, Omit<TaskRow, 'createdAt'>> {
  const out = new Map<string, Omit<TaskRow, 'createdAt'>>();
  for (const t of batch.tasks) out.set(`${t.project}\u0000${t.taskId}`, { project: t.project, taskId: t.taskId, lastSample: 0 });
  for (const s of batch.samples) {
    const key = `${s.project}\u0000${s.taskId}`;
    const second = Math.floor(s.second / SEC);
    const e = out.get(key);
    if (!e) out.set(key, { project: s.project, taskId: s.taskId, lastSample: second });
    else if (e.lastSample < second) e.lastSample = second;
  }
  return out;
}

export function tasksInsert(table: string, tasks: readonly TaskRow[]): string {
  const values = tasks.map((t) => tuple([t.project, t.taskId, t.createdAt, t.lastSample]));
  return `INSERT INTO ${table} (project, task_id, created_at, last_sample) VALUES ${values.join(', ')}`;
}

export function keyValueInsert(table: string, written: readonly Checkpoint[], version: bigint): string {
  const rows = lastPerKey(written, (r) => r.key);
  const values = rows.map((r) => `(${quote(r.key)}, ${quote(r.value)}, ${quote(version)})`);
  return `INSERT INTO ${table} (key, value, version) VALUES ${values.join(', ')}`;
}
