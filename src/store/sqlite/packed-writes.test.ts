import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/tmp.js';
import { CellCounter } from '../../ingest/cells.js';
import { TrafficCounter } from '../../ingest/traffic/traffic-counter.js';
import { expandPacked, type PackedCells } from '../packed.js';
import { HTTP_CUBE } from './layout.js';
import { SqliteStore } from './store.js';
import { TRAFFIC_DOMAINS, TRAFFIC_STREAMS } from './traffic-layout.js';

const T = Date.UTC(2026, 0, 1, 10, 0, 0);
let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(() => tmp?.remove());

/** Random cells of a few domains and streams over two hours, drained as ingest drains them. */
function packed(seed: number): PackedCells {
  let x = seed;
  const rnd = (n: number): number => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) % n;
  const cells = new CellCounter();
  const traffic = new TrafficCounter();
  for (let i = 0; i < 20_000; i++) {
    const domain = `d${rnd(3)}.com`;
    const time = T + rnd(120) * 60_000 + rnd(60_000);
    const geo = rnd(140);
    const bytes = rnd(2_000_000);
    cells.add(domain, time, geo, [200, 206, 404, 502][rnd(4)] as number, 1, bytes);
    const s = rnd(5);
    if (s === 0) traffic.add(domain, '', '', 'other', time, geo, 'other', bytes);
    else traffic.add(domain, 'live', `s${s}`, rnd(2) === 0 ? 'flv' : 'hls', time, geo, rnd(2) === 0 ? 'v4' : 'v6', bytes);
  }
  const batch = cells.drain();
  batch.traffic = traffic.drain();
  return batch;
}

/** Every block table's rows, by series key (ids depend on the order series were created). */
function dump(file: string): Record<string, string[]> {
  const db = new Database(file, { readonly: true });
  const out: Record<string, string[]> = {};
  for (const cube of [HTTP_CUBE, TRAFFIC_DOMAINS, TRAFFIC_STREAMS]) {
    const keys = new Map(db.prepare(`SELECT id, key FROM ${cube.seriesTable}`).raw().all() as Array<[number, string]>);
    for (const level of cube.levels) {
      out[level.table.name] = [...level.table.all(db)]
        .map((r) => `${keys.get(r.series)}|${r.grp}|${r.block}|${Buffer.from(r.data).toString('hex')}`).sort();
    }
  }
  db.close();
  return out;
}

it('stores packed cells exactly as the same cells given as rows, also merged into stored blocks', async () => {
  tmp = tempDir();
  const a = new SqliteStore(join(tmp.dir, 'packed.db'));
  const b = new SqliteStore(join(tmp.dir, 'rows.db'));
  await a.init();
  await b.init();
  for (const seed of [1, 2]) {
    const p = packed(seed);
    const rows = expandPacked({ project: 'p', cells: p });
    expect(rows.counts.length).toBeGreaterThan(1000);
    expect(rows.traffic.length).toBeGreaterThan(1000);
    await a.write({ id: `a${seed}`, counts: [], samples: [], tasks: [], checkpoints: [], packed: [{ project: 'p', cells: p }] });
    await b.write({ id: `b${seed}`, counts: rows.counts, traffic: rows.traffic, samples: [], tasks: [], checkpoints: [] });
  }
  await a.close();
  await b.close();
  const da = dump(join(tmp.dir, 'packed.db'));
  expect(Object.keys(da).length).toBe(10);
  expect(da).toEqual(dump(join(tmp.dir, 'rows.db')));
});
