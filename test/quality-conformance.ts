import { afterEach, describe, expect, it } from 'vitest';
import type { QualityFilter, QualityRow } from '../src/store/stream-quality.js';
import type { Store } from '../src/store/types.js';
import type { OpenStore } from './store-conformance.js';

/** Per-second stream quality (issue 23), run unchanged against each backend. */
const T0 = Date.UTC(2026, 10, 20, 10);
const DAY = 86_400_000;

export function quality(sec: number, v: number, more: Partial<QualityRow> = {}): QualityRow {
  return {
    project: 'p1', domain: 'push.example.com', app: 'live', stream: 's1', second: T0 + sec * 1000,
    videoFps: v, videoKbps: v * 100, audioFps: v + 18, audioKbps: 128, gopMs: 2000, lastVideoPtsMs: 1_000_000 + sec * 1000,
    lastAudioPtsMs: 999_980 + sec * 1000, delayMs: 35, ...more,
  };
}
const filter = (more: Partial<QualityFilter> = {}): QualityFilter =>
  ({ project: 'p1', domain: 'push.example.com', app: 'live', stream: 's1', from: T0, to: T0 + 3_600_000, ...more });
const strip = ({ project: _p, domain: _d, app: _a, stream: _s, ...rest }: QualityRow): Omit<QualityRow, 'project' | 'domain' | 'app' | 'stream'> => rest;

export function runQualityConformance(name: string, open: OpenStore): void {
  describe(`stream quality conformance: ${name}`, () => {
    let store: Store | undefined;
    const fresh = async (): Promise<Store> => (store = await open());
    afterEach(async () => {
      await store?.close();
      store = undefined;
    });

    it('stores all eight values per second; a later sample replaces the same second; [from, to) in order', async () => {
      const s = await fresh();
      await s.writeQuality([quality(2, 25), quality(0, 24), quality(1, 25), quality(700, 30)]);
      await s.writeQuality([quality(1, 12, { gopMs: 1960, delayMs: 0 })]);
      expect(await s.queryQuality(filter({ from: T0, to: T0 + 2000 }))).toEqual([strip(quality(0, 24)), strip(quality(1, 12, { gopMs: 1960, delayMs: 0 }))]);
      // a block boundary (600 s) crossed
      expect((await s.queryQuality(filter())).map((x) => x.second)).toEqual([T0, T0 + 1000, T0 + 2000, T0 + 700_000]);
    });

    it('keeps the later of two rows of one second in one write (the same stream only)', async () => {
      const s = await fresh();
      await s.writeQuality([quality(0, 5), quality(0, 9, { stream: 's2' }), quality(0, 7), quality(0.4, 8), quality(1, 3)]);
      expect(await s.queryQuality(filter({ from: T0, to: T0 + 2000 }))).toEqual([strip(quality(0.4, 8)), strip(quality(1, 3))].map((r, i) => ({ ...r, second: T0 + i * 1000 })));
      expect(await s.queryQuality(filter({ stream: 's2', from: T0, to: T0 + 2000 }))).toEqual([strip(quality(0, 9, { stream: 's2' }))]);
    });

    it('keys by project, domain, app and stream; hostile names stay exact', async () => {
      const s = await fresh();
      const odd = { app: "l'i\\ve", stream: 'ström "1"\u0000x' };
      await s.writeQuality([quality(0, 1), quality(0, 2, { project: 'p2' }), quality(0, 3, { domain: 'b.example.com' }), quality(0, 4, odd)]);
      expect((await s.queryQuality(filter())).map((x) => x.videoFps)).toEqual([1]);
      expect((await s.queryQuality(filter({ project: 'p2' }))).map((x) => x.videoFps)).toEqual([2]);
      expect((await s.queryQuality(filter({ domain: 'b.example.com' }))).map((x) => x.videoFps)).toEqual([3]);
      expect((await s.queryQuality(filter(odd))).map((x) => x.videoFps)).toEqual([4]);
      expect(await s.queryQuality(filter({ stream: 'never' }))).toEqual([]);
    });

    it('stores non-negative integers: fractions rounded, negatives and non-finite values as 0, large timestamps exact', async () => {
      const s = await fresh();
      await s.writeQuality([quality(0, 24.6, { delayMs: -40, gopMs: Number.NaN, lastVideoPtsMs: 86_400_000 * 400 + 17 })]);
      expect(await s.queryQuality(filter())).toEqual([{ ...strip(quality(0, 25)), videoKbps: 2460, audioFps: 43, delayMs: 0, gopMs: 0, lastVideoPtsMs: 86_400_000 * 400 + 17 }]);
    });

    it('deletes quality before a day-aligned cutoff with the other per-second data', async () => {
      const s = await fresh();
      const day = Math.floor(T0 / DAY) * DAY;
      await s.writeQuality([quality(0, 1), quality(0, 2, { second: day + DAY + 5000 })]);
      await s.deleteBefore(day + DAY);
      expect((await s.queryQuality(filter({ from: day, to: day + 2 * DAY }))).map((x) => x.videoFps)).toEqual([2]);
    });
  });
}
