// Extreme input through the ClickHouse store's node-memory blocks (issue 24: traffic cells, traffic
// blocks): bytes of 2^53 - 1 in one cell, a hostile stream name, 2,000 stream names in one hour and a
// second tenant with extreme values beside. Every answer from blocks must equal the SQL answer of a store
// without blocks on the same database, and the other tenant's and names' answers stay exact.
import { describe, expect, it } from 'vitest';
import type { TrafficFilter, TrafficRow } from '../src/store/traffic.js';
import { batch } from './store-conformance.js';
import { untilFromBlocks, useBlockStores } from './helpers/block-stores.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

const SLOT = 300_000;
const HOUR = 3_600_000;
/** Two closed hours, two days ago. */
const H0 = (Math.floor(Date.now() / HOUR) - 48) * HOUR;
const HOSTILE = "s'\\\u0000\t\n\u202e\u{1F600}" + 'x'.repeat(200);
const MAX = 2 ** 53 - 1;

const st = useBlockStores('blocks_extreme');

function row(more: Partial<TrafficRow>): TrafficRow {
  return { project: 'p1', domain: 'a.example.com', app: 'live', stream: 's1', protocol: 'flv', region: 'GD', isp: 'CMCC', ipType: 'v4', slot: H0, requests: 1, bytes: 1, ...more };
}
const filter = (more: Partial<TrafficFilter>): TrafficFilter => ({
  project: 'p1', domains: ['a.example.com'], app: 'live', stream: 's1', protocol: undefined, regions: [], isps: [], ipType: undefined,
  slotMs: SLOT, from: H0, to: H0 + 2 * HOUR, ...more,
});
const fromCells = (f: TrafficFilter): Promise<number[]> => untilFromBlocks(st.cached.trafficCells?.stats, async () => [...(await st.cached.trafficSeries(f))], 'traffic cells');
const bySql = async (f: TrafficFilter): Promise<number[]> => [...(await st.sql.trafficSeries(f))];

describe('ClickHouse blocks: extreme input', () => {
  it('bytes of 2^53 - 1 in one cell, a hostile stream name and 2,000 names in one hour: answers from the cells equal SQL, exactly', async () => {
    const many = Array.from({ length: 2000 }, (_, i) => row({ stream: `n${i}`, slot: H0 + (i % 12) * SLOT, bytes: 1 + i }));
    await st.writer.write(batch({ traffic: [
      row({ bytes: MAX }), row({ stream: HOSTILE, slot: H0 + HOUR, bytes: MAX - 1 }), ...many,
      // Another tenant, the same names, extreme values: never in p1's answers.
      row({ project: 'p2', bytes: MAX }), row({ project: 'p2', stream: HOSTILE, slot: H0 + HOUR, bytes: MAX }),
    ] }));
    const cases: Array<[string, Partial<TrafficFilter>, number]> = [
      ['2^53 - 1 in one cell', {}, MAX],
      ['a hostile stream name', { stream: HOSTILE }, MAX - 1],
      ['one of 2,000 names', { stream: 'n1234' }, 1235],
    ];
    for (const [name, more, total] of cases) {
      const f = filter(more);
      const expected = await bySql(f);
      expect(expected.reduce((a, b) => a + b, 0), name).toBe(total);
      expect(expected.some((v) => v === total), name).toBe(true);
      expect(await fromCells(f), name).toEqual(expected);
    }
  }, 240_000);
});
