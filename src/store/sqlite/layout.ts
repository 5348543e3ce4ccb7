import { ISPS, REGIONS } from '../../contract/values.js';
import { Cube } from '../blocks/cube.js';
import { BlockTable } from '../blocks/table.js';

export const MINUTE_MS = 60_000;
export const SECOND_MS = 1000;

/**
 * Playback requests: (project, domain) series, region x isp groups, per-minute slots in hour
 * blocks, the status code as the cell key, requests and bytes sent as measures. Four levels so
 * that every filter the API accepts (both, region only, isp only, neither) reads one block per
 * (domain, filter value, hour).
 */
export const HTTP_CUBE = new Cube({
  name: 'hc',
  dims: [{ name: 'region', values: REGIONS }, { name: 'isp', values: ISPS }],
  levels: [['region', 'isp'], ['region'], ['isp'], []],
  measures: ['requests', 'bytes'],
  slotMs: MINUTE_MS,
  blockSlots: 60,
});

export const MEASURE_REQUESTS = 0;

/** Carousel samples: a block per (task, 10 minutes) of per-second values; a later sample replaces. */
export const SAMPLE_BLOCK_SECONDS = 600;
// Row ids: 24 block bits (600 s blocks reach beyond 2200), no groups, 29 bits of task ids.
export const SAMPLES = new BlockTable('carousel_blocks', SAMPLE_BLOCK_SECONDS, 4, 'replace', { block: 24, grp: 0 });

export const REGION_INDEX = new Map<string, number>(REGIONS.map((r, i) => [r, i]));
export const ISP_INDEX = new Map<string, number>(ISPS.map((r, i) => [r, i]));
