import { expect, it } from 'vitest';
import { detailJson, type TrafficDetailQuery } from './detail.js';
import { renderDetail } from './detail-body.js';
import type { IntervalSeconds } from './values.js';

let seed = 11;
const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
const INTERVALS: IntervalSeconds[] = [300, 3600, 86400];

it('writes exactly the bytes of detailJson, for random windows, kinds and byte counts', () => {
  for (let round = 0; round < 400; round++) {
    const interval = INTERVALS[rnd(3)] as IntervalSeconds;
    const slotMs = interval * 1000;
    const from = Math.floor(Date.UTC(2025 + rnd(4), rnd(12), 1 + rnd(28), rnd(24)) / slotMs) * slotMs;
    const count = rnd(round % 50 === 0 ? 9000 : 400);
    const bytes = Float64Array.from({ length: count }, () => {
      const r = rnd(8);
      return r === 0 ? 0 : r === 1 ? rnd(2 ** 30) * 2 ** 22 + rnd(1000) : r === 2 ? 2 ** 53 - 1 - rnd(1000) : rnd(10_000_000);
    });
    const kind = rnd(2) === 0 ? 'traffic' : 'bandwidth';
    const q = { kind, interval, slots: { slotMs, from, to: from + count * slotMs, count } } as TrafficDetailQuery;
    expect(Buffer.from(renderDetail(q, bytes)).toString('latin1')).toBe(detailJson(q, bytes));
  }
});

it('renders an empty window and a window longer than the series (zero-filled) like detailJson', () => {
  const q = { kind: 'bandwidth', interval: 300, slots: { slotMs: 300_000, from: Date.UTC(2028, 2, 1), to: Date.UTC(2028, 2, 1, 0, 15), count: 3 } } as TrafficDetailQuery;
  expect(Buffer.from(renderDetail(q, [37_500])).toString('latin1')).toBe(detailJson(q, [37_500]));
  expect(Buffer.from(renderDetail({ ...q, slots: { ...q.slots, count: 0 } }, [])).toString('latin1')).toBe('{"data_list":[]}');
});
