import { describe, expect, it } from 'vitest';
import type { UpBytesRow } from '../origin.js';
import { MARKER_TYPE, upBytesChunks, upMarkersQueries } from './origin-batch.js';
import { upDomainRows } from './origin-slots.js';

const SLOT = 300_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 20);
const row = (domain: string, slot: number, bytes: number, stream = 's1'): UpBytesRow => ({
  project: 'p', domain, app: 'live', stream, region: 'GD', isp: 'CTCC', type: 0, slot, bytes,
});

describe('origin batch markers', () => {
  it('chunks are deterministic and grouped by (project, domain, UTC day); rows without bytes are left out', () => {
    const rows = [row('a', T0 + DAY - SLOT, 5), row('a', T0 + DAY, 6), row('b', T0, 7), row('a', T0, 0), row('a', T0 + SLOT, 8)];
    const chunks = upBytesChunks('B1', rows, 3);
    expect(chunks.map((c) => [c.tag, c.groups.map((g) => [g.domain, g.daySlot * SLOT, g.rows.map((r) => r.bytes)])])).toEqual([
      ['B1#o0', [['a', T0, [5]], ['a', T0 + DAY, [6]], ['b', T0, [7]]]],
      ['B1#o1', [['a', T0, [8]]]],
    ]);
    expect(upBytesChunks('B1', rows, 3)).toEqual(chunks);
    const sql = upMarkersQueries('db.origin_up_domain', 'origin_up_domain', chunks);
    expect(sql).toHaveLength(1);
    expect(sql[0]).toContain(`type = ${MARKER_TYPE} AND region IN ('B1#o0', 'B1#o1')`);
  });

  it('per-domain sums never pass 2^53 - 1: the rest goes in another row of the same key', () => {
    const big = Number.MAX_SAFE_INTEGER - 1;
    const rows = upDomainRows([row('a', T0, big, 's1'), row('a', T0, 10, 's2'), row('a', T0, 3, 's3')]);
    expect(rows.map((r) => r[6])).toEqual([big, 13]);
    expect(rows.every((r) => Number.isSafeInteger(r[6]))).toBe(true);
  });
});
