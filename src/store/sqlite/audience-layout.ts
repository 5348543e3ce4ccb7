import { ISPS, REGIONS } from '../../contract/values.js';
import { Cube } from '../blocks/cube.js';
import { AUDIENCE_PROTOCOLS } from '../audience.js';
import { AUDIENCE_BLOCK_MINUTES } from '../audience-flv.js';

/**
 * The audience cube's slot: 1 minute; blocks of 15 slots (a quarter of a UTC hour; an hour before
 * schema v10): every flush re-encodes each block it touches, so shorter blocks cost less per flush
 * (bench:audience, docs/storage.md).
 */
export const AUDIENCE_SLOT_MS = 60_000;
export const AUDIENCE_BLOCK_SLOTS = AUDIENCE_BLOCK_MINUTES;
/**
 * Measures: viewers counted per minute (HLS), bytes, log lines, play milliseconds, and since schema
 * v12 the FLV/RTMP sessions as opens and closes (src/store/audience-flv.ts: viewers of a minute =
 * the viewers measure + opens - closes summed from the block's start). Cell key: the protocol index
 * (AUDIENCE_PROTOCOLS).
 */
export const M_VIEWERS = 0;
export const M_BYTES = 1;
export const M_REQUESTS = 2;
export const M_PLAY_MS = 3;
export const M_OPENS = 4;
export const M_CLOSES = 5;
/** The measures before schema v12 (viewers of FLV/RTMP cells were per-minute counts). */
export const V11_MEASURES = 4;
const measures = ['viewers', 'bytes', 'requests', 'playms', 'opens', 'closes'];
const dims = [{ name: 'region', values: REGIONS }, { name: 'isp', values: ISPS }];

/**
 * The audience cube per play domain: (project, domain) series, region x isp groups, four levels
 * (so a region or isp filter reads one block per domain, value and quarter-hour). What a users query
 * without app/stream reads, and the portrait of a whole domain.
 */
export const AUDIENCE_DOMAINS = new Cube({
  name: 'aud', dims, levels: [['region', 'isp'], []], measures, slotMs: AUDIENCE_SLOT_MS, blockSlots: AUDIENCE_BLOCK_SLOTS,
});

/**
 * The cell key's radix in the per-stream cube's region x isp level: a stored key is
 * (region x 4 + isp) x 4 + protocol index, so the protocols may grow to four without a migration.
 */
export const AUDIENCE_KEY_RADIX = 4;
if (AUDIENCE_PROTOCOLS.length > AUDIENCE_KEY_RADIX) throw new Error('audience protocols beyond the cell key radix');

/**
 * The audience cube per stream: (project, domain, app, stream) series; two levels, the total and,
 * since schema v14, region x isp in the cell key (`cube_aus_key_region_isp`): one block per stream
 * and quarter-hour holding every province and carrier, instead of one per (stream, province x
 * carrier, quarter-hour) (`cube_aus_region_isp` up to v13). A flush adds about one cell to each of
 * thousands of per-stream geo groups, and re-encoding a block costs about the same whatever its few
 * cells, so one block per stream is about half the cube's write cost (docs/storage.md). What reads
 * it: a users series of a stream filtered by region or isp (decoding every group's cells). Since
 * schema v18 the key level is written as a block plus a delta (src/store/blocks/delta-write.ts): a
 * flush re-encodes the delta, not the quarter-hour's stored cells; reads sum both rows.
 */
export const AUDIENCE_STREAMS = new Cube({
  name: 'aus', dims, levels: [{ dims: [], inKey: ['region', 'isp'], deltas: true }, []], measures, keyRadix: AUDIENCE_KEY_RADIX,
  slotMs: AUDIENCE_SLOT_MS, blockSlots: AUDIENCE_BLOCK_SLOTS,
});

/**
 * The per-stream cube as schema v7 to v13 laid it out (region x isp in the row id): what migrations
 * 10 and 12 rewrite and migration 14 moves into AUDIENCE_STREAMS's key level. Never written to by ingest.
 */
export const AUDIENCE_STREAMS_V13 = new Cube({
  name: 'aus', dims, levels: [['region', 'isp'], []], measures, slotMs: AUDIENCE_SLOT_MS, blockSlots: AUDIENCE_BLOCK_SLOTS,
});

/**
 * The exact sets behind the distinct counts, kept beside the cube (schema v7):
 * - aud_hls: the HLS viewers counted, (epoch minute, stream series, client IP); a viewer is counted
 *   into the cube when its row is new, so a retried or split batch never counts it twice;
 * - aud_users: the client IPs of a (domain, stream) or a whole domain on a UTC day (aud_user_keys
 *   names them), and aud_user_counts their number (kept as rows are added).
 * Client IPs are integers for IPv4, text for IPv6. Keys lead with the time, so retention deletes a range.
 */
export function audienceDdl(): string {
  return [
    AUDIENCE_DOMAINS.ddl(),
    AUDIENCE_STREAMS.ddl(),
    'CREATE TABLE IF NOT EXISTS aud_hls (minute INTEGER NOT NULL, sid INTEGER NOT NULL, ip NOT NULL, PRIMARY KEY (minute, sid, ip)) WITHOUT ROWID;',
    'CREATE TABLE IF NOT EXISTS aud_user_keys (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);',
    'CREATE TABLE IF NOT EXISTS aud_users (day INTEGER NOT NULL, uid INTEGER NOT NULL, ip NOT NULL, PRIMARY KEY (day, uid, ip)) WITHOUT ROWID;',
    'CREATE TABLE IF NOT EXISTS aud_user_counts (day INTEGER NOT NULL, uid INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (day, uid)) WITHOUT ROWID;',
  ].join('\n');
}

/** The aud_user_keys key of a stream (any app) of a domain, or of the whole domain. */
export const userKey = (project: string, domain: string, stream?: string): string =>
  JSON.stringify(stream === undefined ? [project, domain] : [project, domain, stream]);
