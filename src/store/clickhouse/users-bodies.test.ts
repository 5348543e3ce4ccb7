import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { renderUsers } from '../../contract/audience/users-body.js';
import { UsersBodies, type UsersSlots } from './users-bodies.js';
import { blockWorkerUrl } from './worker-host.js';

const M = 60_000;
const D = Date.UTC(2026, 10, 30);

/** Slot i's viewers: whole numbers, zeros, large and fractional values (the renderer's slow path). */
const series = (n: number, seed: number): Float64Array => Float64Array.from({ length: n }, (_, i) =>
  (i % 7 === 0 ? 0 : i % 101 === 0 ? 2 ** 40 + seed : i % 97 === 0 ? 0.5 + seed : (i * 7919 + seed) % 50_000));

const CASES: Array<[string, UsersSlots, number]> = [
  ['7 d at 60 s', { slotMs: M, from: D - 7 * 1440 * M, to: D }, 7 * 1440],
  ['31 d at 300 s', { slotMs: 5 * M, from: D - 31 * 288 * 5 * M, to: D }, 31 * 288],
  ['slots not on a whole minute', { slotMs: M, from: D + 30_000, to: D + 30_000 + 90 * M }, 90],
];

const want = (slots: UsersSlots, values: Float64Array): Buffer => Buffer.from(renderUsers({ slots: { ...slots, count: values.length } }, values));

describe('UsersBodies', () => {
  const dir = mkdtempSync(join(tmpdir(), 'users-bodies-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders the bytes of renderUsers in its worker threads, many answers at once, reusing sent bodies\' buffers', async () => {
    const url = blockWorkerUrl('users-body-worker.js');
    if (!url) throw new Error('run `npm run build` before this test');
    const bodies = new UsersBodies(2, url);
    try {
      for (let round = 0; round < 3; round++) {
        const asked = CASES.flatMap(([name, slots, n]) => [1, 2, 3].map((seed) => ({ name, slots, values: series(n, seed + round) })));
        const got = await Promise.all(asked.map((a) => bodies.render(a.slots, a.values)));
        got.forEach((body, i) => {
          const a = asked[i] as (typeof asked)[number];
          // The series is still here (copied to the worker, not taken from the caller).
          expect(a.values.length).toBeGreaterThan(0);
          expect(Buffer.from(body).equals(want(a.slots, a.values)), `${a.name}, round ${round}`).toBe(true);
        });
        for (const b of got) bodies.release(b);
        // Each sent body's buffer is moved away from its view: nothing may read it once given back.
        expect(got.every((b) => b.byteLength === 0)).toBe(true);
      }
      // Rounds 2 and 3: each of the 9 answers in flight at once rendered into a buffer given back in the round before.
      expect(bodies.stats).toEqual({ workers: 27, here: 0, spares: 18, assembled: 0 });
      // A body not rendered by the workers is left alone.
      const other = new Uint8Array(10);
      bodies.release(other);
      expect(other.byteLength).toBe(10);
    } finally {
      await bodies.close();
    }
  });

  it('keeps a sent buffer for each of 10 answers in flight at once (the dense bench\'s connections): none renders into fresh memory', async () => {
    const url = blockWorkerUrl('users-body-worker.js');
    if (!url) throw new Error('run `npm run build` before this test');
    const bodies = new UsersBodies(2, url);
    const [, slots, n] = CASES[1] as (typeof CASES)[number];
    try {
      for (let round = 0; round < 4; round++) {
        const asked = Array.from({ length: 10 }, (_, i) => series(n, round * 10 + i));
        const before = bodies.stats.spares;
        const got = await Promise.all(asked.map((values) => bodies.render(slots, values)));
        got.forEach((body, i) => expect(Buffer.from(body).equals(want(slots, asked[i] as Float64Array)), `round ${round}, answer ${i}`).toBe(true));
        // The first round had nothing given back yet; every later one, all 10 buffers of the round before.
        expect(bodies.stats.spares - before, `round ${round}`).toBe(round === 0 ? 0 : 10);
        for (const b of got) bodies.release(b);
      }
    } finally {
      await bodies.close();
    }
  });

  it('hands out the series of rendered answers again, every slot 0, for answers of the same length only', async () => {
    const bodies = new UsersBodies(2, null);
    try {
      const [, slots, n] = CASES[1] as (typeof CASES)[number];
      const first = bodies.series(n);
      expect(first.length).toBe(n);
      expect(first.every((v) => Object.is(v, 0))).toBe(true);
      first.set(series(n, 1));
      expect(Buffer.from(await bodies.render(slots, first)).equals(want(slots, series(n, 1)))).toBe(true);
      bodies.keepSeries(first);
      // Another length: a new series; the kept one stays for its own length.
      const other = bodies.series(n + 1);
      expect(other).not.toBe(first);
      const again = bodies.series(n);
      expect(again).toBe(first);
      expect(again.every((v) => Object.is(v, 0))).toBe(true);
      expect(bodies.seriesStats).toEqual({ made: 2, reused: 1 });
      // Nothing kept of that length any more: a new one; a view into a larger buffer is never kept.
      expect(bodies.series(n)).not.toBe(first);
      bodies.keepSeries(new Float64Array(2 * n).subarray(0, n));
      expect(bodies.seriesStats).toEqual({ made: 3, reused: 1 });
      bodies.series(n);
      expect(bodies.seriesStats).toEqual({ made: 4, reused: 1 });
    } finally {
      await bodies.close();
    }
  });

  it('keeps the newest series when full: lengths nobody asks for any more do not keep a common one out', async () => {
    const bodies = new UsersBodies(2, null);
    try {
      // 16 series of odd lengths kept (the most kept), then one of the common length: kept, the oldest odd one goes.
      for (let n = 1; n <= 16; n++) bodies.keepSeries(new Float64Array(n));
      const common = new Float64Array(10_080);
      bodies.keepSeries(common);
      expect(bodies.series(10_080)).toBe(common);
      expect(bodies.series(1).length).toBe(1);
      expect(bodies.seriesStats).toEqual({ made: 1, reused: 1 });
    } finally {
      await bodies.close();
    }
  });

  it('renders on this thread, the same bytes, without a worker script or when the worker fails', async () => {
    const none = new UsersBodies(2, null);
    const [, slots, n] = CASES[0] as (typeof CASES)[number];
    const values = series(n, 9);
    expect(Buffer.from(await none.render(slots, values)).equals(want(slots, values))).toBe(true);
    expect(none.stats).toEqual({ workers: 0, here: 1, spares: 0, assembled: 0 });
    await none.close();
    // A worker that exits at once (as a crash would): every answer still comes, rendered here.
    const script = join(dir, 'exits.mjs');
    writeFileSync(script, 'process.exit(3);\n');
    const failing = new UsersBodies(1, pathToFileURL(script));
    try {
      const got = await Promise.all([1, 2, 3].map((seed) => failing.render(slots, series(n, seed))));
      got.forEach((body, i) => expect(Buffer.from(body).equals(want(slots, series(n, i + 1)))).toBe(true));
      expect(failing.stats).toEqual({ workers: 0, here: 3, spares: 0, assembled: 0 });
    } finally {
      await failing.close();
    }
  });
});
