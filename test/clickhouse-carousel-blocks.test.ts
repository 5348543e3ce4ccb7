// The ClickHouse store's carousel blocks (src/store/clickhouse/carousel-blocks.ts, issue 24): closed hours
// of a task's samples kept in memory, checked against their stamps (migration 012). Every answer from
// blocks must equal the SQL answer of a store without blocks on the same database, with edges inside
// hours, also after a newer sample of a second in a closed hour written by another node, while two
// writers write, and after a retried batch whose first attempt landed without its stamp.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderMigration } from '../src/store/clickhouse/schema.js';
import { ClickHouseStore } from '../src/store/clickhouse/store.js';
import { loadMigrations } from '../src/store/migrations.js';
import type { CarouselSample, SampleFilter, SampleRow } from '../src/store/types.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { batch, sample } from './store-conformance.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

const SEC = 1000;
const HOUR = 3_600_000;
/** Three closed hours, two days ago. */
const H0 = (Math.floor(Date.now() / HOUR) - 48) * HOUR;

let server: ClickHouseServer;
let cached: ClickHouseStore;
let writer: ClickHouseStore;
let sql: ClickHouseStore;
let seed = 3;
const rnd = (): number => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};

function samples(n: number, from = H0, hours = 3): SampleRow[] {
  return Array.from({ length: n }, () => sample(from + Math.floor(rnd() * hours * 3600) * SEC, 1 + Math.floor(rnd() * 60)));
}

const WINDOWS: Array<[string, Partial<SampleFilter>]> = [
  ['3 hours', {}],
  ['edges inside hours', { from: H0 + 1234 * SEC, to: H0 + 2 * HOUR + 777 * SEC }],
];
const filter = (more: Partial<SampleFilter>): SampleFilter => ({ project: 'p1', taskId: 'task-1', from: H0, to: H0 + 3 * HOUR, ...more });

async function fromBlocks(f: SampleFilter): Promise<CarouselSample[]> {
  const deadline = Date.now() + 60_000;
  const stats = cached.carouselBlocks?.stats;
  if (!stats) throw new Error('the store has no carousel blocks');
  for (;;) {
    const before = stats.fromBlocks;
    const out = await cached.querySamples(f);
    if (stats.fromBlocks > before) return out;
    if (Date.now() > deadline) throw new Error('no answer from the carousel blocks within 60 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  server = await startClickHouse();
  const url = server.url('carousel_blocks');
  cached = new ClickHouseStore({ url });
  writer = new ClickHouseStore({ url, hourBlocks: false });
  sql = new ClickHouseStore({ url, hourBlocks: false });
  await cached.init();
  await writer.init();
  await sql.init();
});
afterAll(async () => {
  await cached?.close();
  await writer?.close();
  await sql?.close();
  await server?.destroy();
});

describe('ClickHouse carousel blocks', () => {
  it('answers from blocks exactly as SQL does, also after another node rewrote a second of a closed hour', async () => {
    await cached.write(batch({ samples: samples(2000) }));
    await writer.write(batch({ samples: samples(2000) }));
    for (const [name, more] of WINDOWS) {
      const f = filter(more);
      expect(await fromBlocks(f), name).toEqual(await sql.querySamples(f));
    }
    const f = filter({});
    const [first] = await sql.querySamples(f);
    if (!first) throw new Error('no samples');
    // A newer sample of a second that exists, by the other node: the answer shows it.
    await writer.write(batch({ samples: [sample(first.second, 999)] }));
    const expected = await sql.querySamples(f);
    expect(expected[0]?.videoFps).toBe(999);
    expect(await cached.querySamples(f)).toEqual(expected);
    expect(await fromBlocks(f)).toEqual(expected);
  }, 180_000);

  it('stays exact while two writers write into closed hours and a third node reads', async () => {
    const f = filter({});
    await fromBlocks(f);
    const writes = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? cached : writer).write(batch({ samples: samples(100) })));
    const reads = Array.from({ length: 10 }, () => cached.querySamples(f));
    await Promise.all([...writes, ...reads]);
    for (const [name, more] of WINDOWS) {
      const g = filter(more);
      const expected = await sql.querySamples(g);
      expect(await cached.querySamples(g), name).toEqual(expected);
      expect(await fromBlocks(g), name).toEqual(expected);
    }
  }, 180_000);

  it('a retry whose first attempt landed without its stamp (the view failed) makes the blocks of its hours stale', async () => {
    const f = filter({});
    await fromBlocks(f);
    const view = renderMigration(loadMigrations('clickhouse').find((m) => m.version === 12)?.sql ?? '', { database: 'carousel_blocks' })
      .find((stmt) => stmt.includes('carousel_stamps_from_samples'));
    if (!view) throw new Error('no stamp view in migration 012');
    const [first] = await sql.querySamples(f);
    if (!first) throw new Error('no samples');
    await server.sql('DROP TABLE carousel_blocks.carousel_stamps_from_samples');
    const b = batch({ samples: [sample(first.second, 4242)] });
    try {
      await writer.write(b);
      // Retried while the view is still gone (a replicated table would deduplicate the insert, view and all).
      (writer as unknown as { pending: Map<string, bigint> }).pending.set(b.id, 1n);
      await writer.write(b);
    } finally {
      await server.sql(view);
    }
    const expected = await sql.querySamples(f);
    expect(expected[0]?.videoFps).toBe(4242);
    expect(await cached.querySamples(f)).toEqual(expected);
    expect(await fromBlocks(f)).toEqual(expected);
  }, 180_000);
});
