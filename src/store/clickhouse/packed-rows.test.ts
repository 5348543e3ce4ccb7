import { describe, expect, it } from 'vitest';
import { expandPacked, PACKED_CODES, PACKED_GEOS, type PackedCells, type ProjectCells } from '../packed.js';
import type { TrafficRow } from '../traffic.js';
import type { CountRow } from '../types.js';
import { packedRows } from './packed-rows.js';

let seed = 99;
const rand = (n: number): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return Math.floor((seed / 4294967296) * n);
};

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 7);

/** Random packed cells with many repeated keys, within one packed batch and across batches. */
function randomPacked(n: number): PackedCells {
  const slotDomains: string[] = [];
  const slotMinutes: number[] = [];
  for (let s = 0; s < 6; s++) {
    slotDomains.push(['a.example', "b'\t.example", 'c.example'][rand(3)] as string);
    slotMinutes.push(T0 + rand(4) * MIN);
  }
  const keys: number[] = [];
  const counts: number[] = [];
  const bytes: number[] = [];
  for (let i = 0; i < n; i++) {
    keys.push((rand(6) * PACKED_GEOS + rand(8)) * PACKED_CODES + [200, 404, 0, 1023][rand(4)]!);
    counts.push(1 + rand(5));
    bytes.push(rand(3) === 0 ? 0 : rand(1e9));
  }
  const tuples = [['a.example', 'live', 's1'], ['a.example', '', ''], ['c.example', 'app', 's2']];
  const t = { tuple: [] as number[], slot: [] as number[], geo: [] as number[], protocol: [] as number[], ipType: [] as number[], requests: [] as number[], bytes: [] as number[] };
  for (let i = 0; i < n; i++) {
    t.tuple.push(rand(3)); t.slot.push(T0 + rand(3) * 300_000); t.geo.push(rand(8)); t.protocol.push(rand(3)); t.ipType.push(rand(3));
    t.requests.push(1 + rand(4)); t.bytes.push(rand(1e8));
  }
  return {
    slotDomains, slotMinutes, keys: Int32Array.from(keys), counts: Float64Array.from(counts), bytes: Float64Array.from(bytes),
    traffic: {
      domains: tuples.map((x) => x[0] as string), apps: tuples.map((x) => x[1] as string), streams: tuples.map((x) => x[2] as string),
      tuple: Int32Array.from(t.tuple), slot: Float64Array.from(t.slot), geo: Uint8Array.from(t.geo), protocol: Uint8Array.from(t.protocol),
      ipType: Uint8Array.from(t.ipType), requests: Float64Array.from(t.requests), bytes: Float64Array.from(t.bytes),
    },
  };
}

/** What the aggregator makes of the same cells for a store of rows (expandPacked, then one row per key, summed). */
function reference(packed: ProjectCells[]): { counts: CountRow[]; traffic: TrafficRow[] } {
  const counts = new Map<string, CountRow>();
  const traffic = new Map<string, TrafficRow>();
  for (const p of packed) {
    const rows = expandPacked(p);
    for (const r of rows.counts) {
      const k = JSON.stringify([r.project, r.domain, r.minute, r.region, r.isp, r.code]);
      const e = counts.get(k);
      if (e) {
        e.count += r.count;
        e.bytes = (e.bytes ?? 0) + (r.bytes ?? 0);
      } else counts.set(k, { ...r });
    }
    for (const r of rows.traffic) {
      const k = JSON.stringify([r.project, r.domain, r.app, r.stream, r.protocol, r.region, r.isp, r.ipType, r.slot]);
      const e = traffic.get(k);
      if (e) {
        e.requests += r.requests;
        e.bytes += r.bytes;
      } else traffic.set(k, { ...r });
    }
  }
  return { counts: [...counts.values()], traffic: [...traffic.values()] };
}

const sorted = <T>(rows: T[]): string[] => rows.map((r) => JSON.stringify(r)).sort();

describe('packedRows', () => {
  it('gives the rows the aggregator gives a store of rows: one per key, summed, across packed batches and projects', () => {
    const packed: ProjectCells[] = [
      { project: 'p1', cells: randomPacked(3000) }, { project: 'p1', cells: randomPacked(2000) }, { project: "p'2", cells: randomPacked(1500) },
    ];
    const got = packedRows(packed);
    const want = reference(packed);
    expect(got.counts.length).toBeLessThan(6500); // keys repeat: merged
    expect(sorted(got.counts)).toEqual(sorted(want.counts));
    expect(sorted(got.traffic)).toEqual(sorted(want.traffic));
    // The same batch gives the same rows in the same order (a retry's chunks are the first attempt's).
    expect(packedRows(packed)).toEqual(got);
  });

  it('leaves the packed cells as they are', () => {
    const packed: ProjectCells[] = [{ project: 'p1', cells: randomPacked(500) }, { project: 'p1', cells: randomPacked(500) }];
    const before = JSON.stringify(packed.map((p) => ({ ...p.cells, counts: [...p.cells.counts], bytes: [...p.cells.bytes] })));
    packedRows(packed);
    packedRows(packed);
    expect(JSON.stringify(packed.map((p) => ({ ...p.cells, counts: [...p.cells.counts], bytes: [...p.cells.bytes] })))).toBe(before);
  });
});
