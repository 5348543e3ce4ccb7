// The ClickHouse store's carousel blocks (src/store/clickhouse/carousel-blocks.ts, issue 24): closed hours
// of a task's samples kept in memory, checked against their stamps (migration 012). Every answer from
// blocks must equal the SQL answer of a store without blocks on the same database, with edges inside
// hours, also after a newer sample of a second in a closed hour written by another node, while two
// writers write, and after a retried batch whose first attempt landed without its stamp. The answer's
// bytes (carouselBody: the blocks' hours kept rendered and copied in, SQL-read stretches rendered) must be
// carouselJson's over the SQL answer, the bytes the SQLite store gives (src/contract/carousel-body.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { carouselJson } from '../src/contract/carousel.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import type { CarouselSample, SampleFilter, SampleRow } from '../src/store/types.js';
import { batch, sample } from './store-conformance.js';
import { markUnacknowledged, seededRandom, untilFromBlocks, useBlockStores, withoutStampView } from './helpers/block-stores.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

const SEC = 1000;
const HOUR = 3_600_000;
/** Three closed hours, two days ago. */
const H0 = (Math.floor(Date.now() / HOUR) - 48) * HOUR;

const st = useBlockStores('carousel_blocks');
const { rnd } = seededRandom(3);

function samples(n: number, from = H0, hours = 3): SampleRow[] {
  return Array.from({ length: n }, () => sample(from + Math.floor(rnd() * hours * 3600) * SEC, 1 + Math.floor(rnd() * 60)));
}

const WINDOWS: Array<[string, Partial<SampleFilter>]> = [
  ['3 hours', {}],
  ['edges inside hours', { from: H0 + 1234 * SEC, to: H0 + 2 * HOUR + 777 * SEC }],
  // The route clamps the end to now: an end inside a second (that second is not listed in the answer).
  ['end inside a second', { from: H0 + 59 * SEC, to: H0 + 3 * HOUR - 1 * SEC + 400 }],
];
const filter = (more: Partial<SampleFilter>): SampleFilter => ({ project: 'p1', taskId: 'task-1', from: H0, to: H0 + 3 * HOUR, ...more });

const fromBlocks = (f: SampleFilter): Promise<CarouselSample[]> => untilFromBlocks(st.cached.carouselBlocks?.stats, () => st.cached.querySamples(f), 'carousel blocks');

const text = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
/** The cached node's answer bytes (its carouselBody; absent: the test fails). */
const body = async (f: SampleFilter): Promise<string> => {
  if (!st.cached.carouselBody) throw new Error('the ClickHouse store has no carouselBody');
  return text(await st.cached.carouselBody(f));
};
/** The cached node's answer bytes, once they come from its blocks. */
const bodyFromBlocks = (f: SampleFilter): Promise<string> => untilFromBlocks(st.cached.carouselBlocks?.stats, () => body(f), 'carousel blocks');
/** The answer the bytes must be: carouselJson over the SQL node's samples. */
const expectedBody = async (f: SampleFilter): Promise<string> => carouselJson({ taskId: f.taskId, start: f.from, end: f.to }, await st.sql.querySamples(f));

describe('ClickHouse carousel blocks', () => {
  it('answers from blocks exactly as SQL does, also after another node rewrote a second of a closed hour', async () => {
    await st.cached.write(batch({ samples: samples(2000) }));
    await st.writer.write(batch({ samples: samples(2000) }));
    for (const [name, more] of WINDOWS) {
      const f = filter(more);
      expect(await fromBlocks(f), name).toEqual(await st.sql.querySamples(f));
      const want = await expectedBody(f);
      expect(want, name).toMatch(/_list":\[[^\]]*[1-9]/);
      expect(await bodyFromBlocks(f), name).toBe(want);
      expect(await st.sql.carouselBody?.(f).then(text), name).toBe(want);
    }
    const f = filter({});
    const [first] = await st.sql.querySamples(f);
    if (!first) throw new Error('no samples');
    // A newer sample of a second that exists, by the other node: the answer shows it.
    await st.writer.write(batch({ samples: [sample(first.second, 999)] }));
    const expected = await st.sql.querySamples(f);
    expect(expected[0]?.videoFps).toBe(999);
    const want = await expectedBody(f);
    // The first hour's block is stale now: that hour by SQL, rendered between the other hours' bytes.
    const partly = st.cached.carouselBlocks?.stats.partly ?? 0;
    expect(await body(f)).toBe(want);
    expect(st.cached.carouselBlocks?.stats.partly).toBe(partly + 1);
    expect(await st.cached.querySamples(f)).toEqual(expected);
    expect(await fromBlocks(f)).toEqual(expected);
    expect(await bodyFromBlocks(f)).toBe(want);
  }, 180_000);

  it('stays exact while two writers write into closed hours and a third node reads', async () => {
    const f = filter({});
    await fromBlocks(f);
    const writes = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? st.cached : st.writer).write(batch({ samples: samples(100) })));
    const reads = Array.from({ length: 10 }, () => st.cached.querySamples(f));
    await Promise.all([...writes, ...reads]);
    for (const [name, more] of WINDOWS) {
      const g = filter(more);
      const expected = await st.sql.querySamples(g);
      const want = await expectedBody(g);
      expect(await body(g), name).toBe(want);
      expect(await st.cached.querySamples(g), name).toEqual(expected);
      expect(await fromBlocks(g), name).toEqual(expected);
      expect(await bodyFromBlocks(g), name).toBe(want);
    }
  }, 180_000);

  it('a retry whose first attempt landed without its stamp (the view failed) makes the blocks of its hours stale', async () => {
    const f = filter({});
    await fromBlocks(f);
    const [first] = await st.sql.querySamples(f);
    if (!first) throw new Error('no samples');
    const b = batch({ samples: [sample(first.second, 4242)] });
    await withoutStampView(st, 12, 'carousel_stamps_from_samples', async () => {
      await st.writer.write(b);
      // Retried while the view is still gone (a replicated table would deduplicate the insert, view and all).
      markUnacknowledged(st.writer, b.id);
      await st.writer.write(b);
    });
    const expected = await st.sql.querySamples(f);
    expect(expected[0]?.videoFps).toBe(4242);
    const want = await expectedBody(f);
    expect(await body(f)).toBe(want);
    expect(await st.cached.querySamples(f)).toEqual(expected);
    expect(await fromBlocks(f)).toEqual(expected);
    expect(await bodyFromBlocks(f)).toBe(want);
  }, 180_000);

  it('two nodes writing one second in the same millisecond: the answer is the same before and after the parts merge', async () => {
    // The clock of both nodes held at one millisecond (ahead of every version written so far): before the
    // versions carried a per-node residue (versions.ts), both wrote version ms x 1000, a tie that argMax and
    // the merge settled differently.
    const taskId = 'task-tie';
    const f = filter({ taskId });
    const at = Date.now() + 86_400_000;
    const now = vi.spyOn(Date, 'now').mockReturnValue(at);
    try {
      for (let i = 0; i < 20; i++) {
        const [first, second] = i % 2 === 0 ? [st.cached, st.writer] : [st.writer, st.cached];
        await first.write(batch({ samples: [sample(H0 + i * SEC, 100 + i, { taskId })] }));
        await second.write(batch({ samples: [sample(H0 + i * SEC, 200 + i, { taskId })] }));
      }
    } finally {
      now.mockRestore();
    }
    const before = await st.sql.querySamples(f);
    expect(before).toHaveLength(20);
    await st.server.sql(`OPTIMIZE TABLE ${st.database}.carousel_samples FINAL`);
    expect(await st.sql.querySamples(f)).toEqual(before);
    expect(await fromBlocks(f)).toEqual(before);
    expect(await bodyFromBlocks(f)).toBe(await expectedBody(f));
  }, 180_000);

  it('the memory of a sent body is reused by the next answers (releaseBody), which stay exact; other bodies are left alone', async () => {
    const f = filter({});
    const g = filter(WINDOWS[1]?.[1] ?? {});
    const want = [await expectedBody(f), await expectedBody(g)];
    const first = await st.cached.carouselBody?.(f);
    if (!first || !st.cached.releaseBody) throw new Error('no carouselBody / releaseBody');
    expect(text(first)).toBe(want[0]);
    st.cached.releaseBody(first);
    st.cached.releaseBody(first);
    // The next answer is made in that memory; the first body given back once more, now that its memory is an answer
    // still out, gives nothing back: the answer after keeps memory of its own.
    const second = await st.cached.carouselBody?.(f);
    if (!second) throw new Error('no carouselBody');
    expect(second.buffer).toBe(first.buffer);
    st.cached.releaseBody(first);
    const third = await st.cached.carouselBody?.(f);
    expect(third?.buffer).not.toBe(second.buffer);
    expect(text(second)).toBe(want[0]);
    st.cached.releaseBody(second);
    if (third) st.cached.releaseBody(third);
    // A buffer the store did not render (Node's shared pool under small Buffers) is not taken.
    const small = Buffer.from('{"x":1}');
    st.cached.releaseBody(small);
    for (let i = 0; i < 6; i++) {
      const b = await bodyFromBlocks(i % 2 === 0 ? g : f);
      expect(b).toBe(want[i % 2 === 0 ? 1 : 0]);
      const again = await st.cached.carouselBody?.(i % 2 === 0 ? g : f);
      if (again) st.cached.releaseBody(again);
    }
    expect(small.toString()).toBe('{"x":1}');
  }, 180_000);

  it('gives the SQLite store\'s bytes for the same samples, from blocks', async () => {
    // One task written once to both stores: a sample nearly every second (every 7th missing, some all zero).
    const taskId = 'task-sqlite';
    const rows = Array.from({ length: 3 * 3600 }, (_, i) => i).filter((i) => i % 7 !== 3)
      .map((i) => sample(H0 + i * SEC, i % 11 === 0 ? 0 : 1 + Math.floor(rnd() * 9000), { taskId }));
    const dir = mkdtempSync(join(tmpdir(), 'livestats-carousel-bytes-'));
    const sqlite = new SqliteStore(join(dir, 'livestats.db'));
    try {
      await sqlite.init();
      for (let i = 0; i < rows.length; i += 2000) {
        const b = batch({ samples: rows.slice(i, i + 2000) });
        await sqlite.write(b);
        await st.writer.write(b);
      }
      for (const [name, more] of WINDOWS) {
        const f = filter({ ...more, taskId });
        const want = text(await (sqlite.carouselBody as NonNullable<typeof sqlite.carouselBody>)(f));
        expect(want, name).toMatch(/_list":\[[^\]]*[1-9]/);
        expect(await bodyFromBlocks(f), name).toBe(want);
      }
    } finally {
      await sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
