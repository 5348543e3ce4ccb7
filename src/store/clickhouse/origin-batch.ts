import { ORIGIN_SLOT_MS, type UpBytesRow } from '../origin.js';
import { CHUNK_ROWS, slices } from './batch.js';
import { num, str, type ChConnection, type ExecOptions } from './client.js';
import { upDomainRows } from './origin-slots.js';
import { quote, quoteList, type SqlValue } from './sql.js';

/**
 * How an origin batch's input bytes reach the two summing tables (origin_up_bytes, origin_up_domain)
 * exactly once, however often the same batch is sent (the tracker re-sends a batch whose write failed,
 * with the same id and rows; src/origin/tracker.ts).
 *
 * Like the count cubes (batch.ts): the rows are cut into chunks (deterministically), each chunk's rows
 * grouped by (project, domain, UTC day), and every group carries one marker row tagged
 * `<batch id>#o<chunk>` in the same INSERT, so in the same shard (sharded by project and domain),
 * partition (the day) and part: a marker is present exactly when its group's rows are. A retry looks
 * the markers up and inserts only the groups whose marker is missing.
 *
 * The tables keep their schema (006, 011): a marker is a row of type 2 (no publish type: every read
 * asks type 0 or 1) with bytes 1 (SummingMergeTree drops rows whose sums are all 0) and the tag in a
 * key column (stream in origin_up_bytes, region in origin_up_domain), so markers never merge with each
 * other or with data rows.
 */

export const MARKER_TYPE = 2;
const DAY_SLOTS = 288;

type Table = 'origin_up_bytes' | 'origin_up_domain';

interface Group {
  project: string;
  domain: string;
  /** The 5-minute slot number starting the group's UTC day (the marker's slot). */
  daySlot: number;
  rows: UpBytesRow[];
}

interface Chunk {
  tag: string;
  groups: Group[];
}

const tuple = (values: SqlValue[]): string => '(' + values.map(quote).join(', ') + ')';
const int = (n: number): number => Math.max(0, Math.round(n));

/** Input-byte rows (bytes > 0) cut into chunks of at most `maxRows`, grouped by (project, domain, day). */
export function upBytesChunks(batchId: string, rows: readonly UpBytesRow[], maxRows = CHUNK_ROWS): Chunk[] {
  const chunks: Chunk[] = [];
  for (const part of slices(rows.filter((r) => r.bytes > 0), maxRows)) {
    const groups = new Map<string, Group>();
    for (const r of part) {
      const daySlot = Math.floor(Math.floor(r.slot / ORIGIN_SLOT_MS) / DAY_SLOTS) * DAY_SLOTS;
      const key = JSON.stringify([r.project, r.domain, daySlot]);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { project: r.project, domain: r.domain, daySlot, rows: [] }));
      g.rows.push(r);
    }
    chunks.push({ tag: `${batchId}#o${chunks.length}`, groups: [...groups.values()] });
  }
  return chunks;
}

const groupKey = (tag: string, project: string, domain: string, daySlot: number): string => JSON.stringify([tag, project, domain, daySlot]);

/** The column holding a marker's tag in each table. */
const TAG_COLUMN: Record<Table, string> = { origin_up_bytes: 'stream', origin_up_domain: 'region' };

/** SELECTs of the markers of `chunks` present in `table` (a local or distributed name): rows of (batch, project, domain, slot). */
export function upMarkersQueries(table: string, name: Table, chunks: readonly Chunk[]): string[] {
  const pairs = chunks.flatMap((c) => c.groups.map((g) => ({ tag: c.tag, g })));
  return slices(pairs).map((part) => `SELECT DISTINCT ${TAG_COLUMN[name]} AS batch, project, domain, slot FROM ${table}
    WHERE (project, domain, slot) IN (${part.map(({ g }) => tuple([g.project, g.domain, g.daySlot])).join(', ')})
      AND type = ${MARKER_TYPE} AND ${TAG_COLUMN[name]} IN ${quoteList([...new Set(part.map((p) => p.tag))])}`);
}

/** The INSERT of `groups` of a chunk into `name`: their rows plus one marker row each (none without a tag). */
function insert(table: string, name: Table, tag: string | undefined, groups: readonly Group[]): string {
  const values: string[] = [];
  if (name === 'origin_up_bytes') {
    for (const g of groups) {
      for (const b of g.rows) values.push(tuple([b.project, b.domain, Math.floor(b.slot / ORIGIN_SLOT_MS), b.app, b.stream, b.region, b.isp, b.type, int(b.bytes)]));
      if (tag !== undefined) values.push(tuple([g.project, g.domain, g.daySlot, '', tag, '', '', MARKER_TYPE, 1]));
    }
    return `INSERT INTO ${table} (project, domain, slot, app, stream, region, isp, type, bytes) VALUES ${values.join(', ')}`;
  }
  for (const g of groups) {
    // The per-domain pre-aggregate (011_origin_slots.sql) ShowUpBandwidth reads when no stream is asked.
    for (const row of upDomainRows(g.rows)) values.push(tuple(row));
    if (tag !== undefined) values.push(tuple([g.project, g.domain, MARKER_TYPE, g.daySlot, tag, '', 1]));
  }
  return `INSERT INTO ${table} (project, domain, type, slot, region, isp, bytes) VALUES ${values.join(', ')}`;
}

export interface UpBytesWriter {
  server: ChConnection;
  table: (name: Table) => string;
  settings: ExecOptions['settings'];
  /** An earlier attempt may still run on the server (a client timeout): wait for its query ids. */
  waitUntilFinished: (queryIds: string[]) => Promise<void>;
  /** Replicated with a quorum: groups found must be on enough replicas (store.ts checkQuorum). */
  checkQuorum: (name: string, queriesFor: (localTable: string) => string[]) => Promise<void>;
}

/**
 * Writes the input bytes of batch `batchId` into both summing tables; `retry`: an earlier attempt of it
 * may have partly landed. A batch without an id cannot be sent again as itself: no markers.
 */
export async function writeUpBytes(w: UpBytesWriter, batchId: string | undefined, rows: readonly UpBytesRow[], retry: boolean): Promise<void> {
  const chunks = upBytesChunks(batchId ?? '', rows);
  if (chunks.length === 0) return;
  const marked = batchId !== undefined;
  for (const name of ['origin_up_bytes', 'origin_up_domain'] as const) {
    const queryId = (tag: string): string => `livestats-${tag}-${name === 'origin_up_bytes' ? 'b' : 'd'}`;
    const present = new Set<string>();
    if (retry) {
      await w.waitUntilFinished(chunks.map((c) => queryId(c.tag)));
      for (const sql of upMarkersQueries(w.table(name), name, chunks)) {
        for (const r of await w.server.rows(sql, undefined, 'write')) present.add(groupKey(str(r.batch), str(r.project), str(r.domain), num(r.slot)));
      }
      if (present.size > 0) await w.checkQuorum(name, (t) => upMarkersQueries(t, name, chunks));
    }
    for (const chunk of chunks) {
      const missing = chunk.groups.filter((g) => !present.has(groupKey(chunk.tag, g.project, g.domain, g.daySlot)));
      if (missing.length === 0) continue;
      await w.server.exec(insert(w.table(name), name, marked ? chunk.tag : undefined, missing), marked ? { queryId: queryId(chunk.tag), settings: w.settings } : { settings: w.settings });
    }
  }
}
