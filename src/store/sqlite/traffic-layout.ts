import { ISPS, REGIONS } from '../../contract/values.js';
import { IP_TYPE_CODES, PROTOCOL_CODES } from '../../ingest/traffic/traffic-counter.js';
import { Cube } from '../blocks/cube.js';

/** The traffic cube's slot: 5 minutes; blocks of 72 slots (6 UTC hours). */
export const TRAFFIC_SLOT_MS = 300_000;
export const TRAFFIC_BLOCK_SLOTS = 72;
export const MEASURE_TRAFFIC_BYTES = 1;

const dims = [{ name: 'region', values: REGIONS }, { name: 'isp', values: ISPS }];

/**
 * Traffic per play domain: (project, domain) series, region x isp groups, 5-minute slots, the
 * cell key = protocol x 3 + ip type (see trafficKey), requests and bytes. Four levels, as the
 * playback cube, so every region/isp filter reads one block per (domain, value, 6 hours).
 * Every query without app/stream (per-domain, summary, peak) reads this cube only.
 */
export const TRAFFIC_DOMAINS = new Cube({
  name: 'trd', dims, levels: [['region', 'isp'], ['region'], ['isp'], []],
  measures: ['requests', 'bytes'], slotMs: TRAFFIC_SLOT_MS, blockSlots: TRAFFIC_BLOCK_SLOTS,
});

/**
 * Traffic per stream: (project, domain, app, stream) series, sparse (a series exists only for a
 * stream with traffic; requests whose URI names no stream are only in TRAFFIC_DOMAINS). Two
 * levels: region x isp (any region/isp filter) and the total (no filter).
 */
export const TRAFFIC_STREAMS = new Cube({
  name: 'trs', dims, levels: [['region', 'isp'], []],
  measures: ['requests', 'bytes'], slotMs: TRAFFIC_SLOT_MS, blockSlots: TRAFFIC_BLOCK_SLOTS,
});

/** Slots per block of TRAFFIC_TOTALS: 288 five-minute slots, one UTC day. */
export const TRAFFIC_TOTAL_BLOCK_SLOTS = 288;

/**
 * Bytes per play domain summed over every group and cell key (schema v5): the TRAFFIC_DOMAINS
 * series ids, one level (no groups), key 0, day blocks, one measure (bytes: all any read needs).
 * What a query without any region, isp, protocol, ip_type, app or stream filter reads: one row of
 * up to 288 cells per (domain, day), one varint each, instead of four rows of up to 6 keys x 72
 * slots, two varints each. Only its block table (`cube_trt_all`) exists; its series table would
 * duplicate cube_trd_series.
 */
export const TRAFFIC_TOTALS = new Cube({
  name: 'trt', dims, levels: [[]], measures: ['bytes'], slotMs: TRAFFIC_SLOT_MS, blockSlots: TRAFFIC_TOTAL_BLOCK_SLOTS,
});
export const MEASURE_TOTALS_BYTES = 0;

/** The cell key of a (protocol, ip type): protocol index x 3 + ip type index (0..8). */
export const trafficKey = (protocol: number, ipType: number): number => protocol * IP_TYPE_CODES.length + ipType;
export const protocolOfKey = (key: number): number => Math.floor(key / IP_TYPE_CODES.length);
export const ipTypeOfKey = (key: number): number => key % IP_TYPE_CODES.length;
export const PROTOCOL_NUMBER = new Map<string, number>(PROTOCOL_CODES.map((p, i) => [p, i]));
export const IP_TYPE_NUMBER = new Map<string, number>(IP_TYPE_CODES.map((p, i) => [p, i]));
