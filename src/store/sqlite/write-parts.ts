import { mergeAudience } from '../audience-merge.js';
import type { ProjectAudience } from '../audience.js';
import type { OriginBatch } from '../origin.js';
import type { WriteBatch } from '../types.js';

/**
 * A big publish-side write (a poll of an origin with hundreds of thousands of clients: as many play
 * rows, and as many audience cells when they end) is handed to the write thread in parts of at most
 * WRITE_PART_ROWS rows, one part per event-loop task: a structured clone of the whole batch held the
 * main thread for seconds (317,000 ended plays, each its own audience cells: ~40 s on a busy core). The
 * thread joins the parts (joinWriteParts) and writes them as one batch, in one transaction.
 */
export const WRITE_PART_ROWS = 2048;

/** Rows a part holds: a session, an input-bytes row, a play, or an audience cell, viewer or user. */
const audienceRows = (a: ProjectAudience): number => a.cells.tuple.length + a.cells.hlsTuple.length + a.cells.userTuple.length;

/** Whether a batch is only publish-side rows (what splitWrite cuts) and bigger than one part. */
function splittable(batch: WriteBatch, rows: number): boolean {
  const o = batch.origin;
  if (!o || batch.counts.length > 0 || batch.samples.length > 0 || batch.tasks.length > 0 || batch.checkpoints.length > 0) return false;
  if (batch.traffic !== undefined || batch.packed !== undefined) return false;
  let n = o.sessions.length + o.upBytes.length + (o.plays?.length ?? 0);
  for (const a of batch.audience ?? []) n += audienceRows(a) + 1;
  return n > rows;
}

/**
 * The parts of a big publish-side batch, cut as they are asked for (each costs its own rows), or
 * undefined when the batch goes whole. Rows keep their order; the audience entries of a part are
 * merged into one per run of the same project (mergeAudience), so a part is a few typed arrays, not
 * thousands. joinWriteParts gives back a batch the store writes exactly as the whole one.
 */
export function splitWrite(batch: WriteBatch, rows = WRITE_PART_ROWS): Iterable<WriteBatch> | undefined {
  const size = Math.max(1, Math.floor(rows));
  if (!splittable(batch, size)) return undefined;
  return cutParts(batch, batch.origin as OriginBatch, size);
}

function* cutParts(batch: WriteBatch, o: OriginBatch, size: number): Generator<WriteBatch> {
  const plays = o.plays ?? [];
  const audience = batch.audience ?? [];
  let s = 0;
  let u = 0;
  let p = 0;
  let a = 0;
  while (s < o.sessions.length || u < o.upBytes.length || p < plays.length || a < audience.length) {
    let room = size;
    const sessions = o.sessions.slice(s, s + room);
    s += sessions.length;
    room -= sessions.length;
    const upBytes = o.upBytes.slice(u, u + room);
    u += upBytes.length;
    room -= upBytes.length;
    const playRows = plays.slice(p, p + room);
    p += playRows.length;
    room -= playRows.length;
    const entries: ProjectAudience[] = [];
    // An entry goes whole: a part holds at least one row, and at most `size` rows unless one entry is bigger.
    while (a < audience.length) {
      const n = audienceRows(audience[a] as ProjectAudience) + 1;
      if (n > room && (room < size || entries.length > 0)) break;
      entries.push(audience[a++] as ProjectAudience);
      room -= n;
    }
    const origin: OriginBatch = { ...o, sessions, upBytes, ...(o.plays ? { plays: playRows } : {}) };
    delete origin.audience;
    yield { id: batch.id, counts: [], samples: [], tasks: [], checkpoints: [], origin, ...(batch.audience ? { audience: mergeAudience(entries) } : {}) };
  }
}

/** The batch the parts were cut from, as the store writes it (rows in the same order). */
export function joinWriteParts(parts: readonly WriteBatch[]): WriteBatch {
  const first = parts[0];
  if (!first?.origin) throw new Error('write parts without publish-side rows');
  const origin: OriginBatch = { ...first.origin, sessions: [], upBytes: [], ...(first.origin.plays ? { plays: [] } : {}) };
  const audience: ProjectAudience[] = [];
  for (const part of parts) {
    const o = part.origin as OriginBatch;
    for (const r of o.sessions) origin.sessions.push(r);
    for (const r of o.upBytes) origin.upBytes.push(r);
    for (const r of o.plays ?? []) origin.plays?.push(r);
    for (const e of part.audience ?? []) audience.push(e);
  }
  return { ...first, origin, ...(first.audience ? { audience } : {}) };
}
