import { describe, expect, it } from 'vitest';
import type { CarouselSample } from '../contract/carousel.js';
import { SecondBucketer } from './bucketer.js';

const T0 = 1_800_000_000_000; // a whole second, epoch ms

/** Feeds a live 25 fps / 43.07 fps AAC stream whose stream time st arrives at wall T0 + (st - base) * 1000 + latency. */
function feedLive(b: SecondBucketer, fromSt: number, toSt: number, wallAtFrom: number, out: CarouselSample[]): void {
  const events: Array<{ st: number; kind: 'video' | 'audio'; bytes: number }> = [];
  for (let st = fromSt; st < toSt - 1e-9; st += 0.04) events.push({ st, kind: 'video', bytes: 5000 });
  for (let st = fromSt; st < toSt - 1e-9; st += 1024 / 44100) events.push({ st, kind: 'audio', bytes: 372 });
  events.sort((a, b) => a.st - b.st);
  let nextTick = wallAtFrom;
  for (const e of events) {
    const wall = wallAtFrom + (e.st - fromSt) * 1000 + 20;
    while (nextTick <= wall) {
      out.push(...b.tick(nextTick));
      nextTick += 250;
    }
    b.packet({ kind: e.kind, time: Math.round(e.st * 1000) / 1000, bytes: e.bytes }, wall);
  }
}

const bySecond = (samples: CarouselSample[]): Map<number, CarouselSample> => {
  const m = new Map<number, CarouselSample>();
  for (const s of samples) m.set(s.second, s); // later reports replace earlier ones, as in the store
  return m;
};

describe('SecondBucketer', () => {
  it('reports a steady stream as its frame rate and bitrate every second', () => {
    const b = new SecondBucketer(T0);
    b.connect(T0);
    const out: CarouselSample[] = [];
    feedLive(b, 100, 120, T0, out);
    out.push(...b.tick(T0 + 25_000));
    const m = bySecond(out);
    for (let s = 2; s < 19; s++) {
      const x = m.get(T0 + s * 1000);
      expect(x?.videoFps).toBe(25);
      expect(x?.videoKbps).toBe(1000);
      expect([43, 44]).toContain(x?.audioFps);
      expect(x?.audioKbps).toBeGreaterThanOrEqual(127);
      expect(x?.audioKbps).toBeLessThanOrEqual(131);
    }
    // the connect second itself is partial and reported as zeros
    expect(m.get(T0)?.videoFps).toBe(0);
  });

  it('drops a GOP-cache burst replayed at connect instead of reporting a spike', () => {
    const b = new SecondBucketer(T0);
    b.connect(T0 + 300);
    const out: CarouselSample[] = [];
    // 2 s of cached stream (st 98..100) delivered at once at T0+300, then live from st 100
    for (let st = 98; st < 100; st += 0.04) b.packet({ kind: 'video', time: st, bytes: 5000 }, T0 + 300);
    feedLive(b, 100, 110, T0 + 300, out);
    out.push(...b.tick(T0 + 20_000));
    const max = Math.max(...out.map((s) => s.videoFps));
    expect(max).toBe(25);
    expect(b.stats.beforeConnect).toBeGreaterThanOrEqual(50);
  });

  it('reports a stall as zeros and re-anchors when the stream resumes', () => {
    const b = new SecondBucketer(T0);
    b.connect(T0);
    const out: CarouselSample[] = [];
    feedLive(b, 100, 105, T0, out);
    // publisher stalls 6 s, then continues with the next timestamps
    feedLive(b, 105, 112, T0 + 11_000, out);
    out.push(...b.tick(T0 + 30_000));
    const m = bySecond(out);
    expect(b.stats.reanchors).toBe(1);
    for (let s = 6; s <= 10; s++) expect(m.get(T0 + s * 1000)?.videoFps).toBe(0);
    expect(m.get(T0 + 13_000)?.videoFps).toBe(25);
  });

  it('follows a publisher restart whose timestamps start again from zero', () => {
    const b = new SecondBucketer(T0);
    b.connect(T0);
    const out: CarouselSample[] = [];
    feedLive(b, 100, 105, T0, out);
    feedLive(b, 0, 6, T0 + 5_000, out);
    out.push(...b.tick(T0 + 20_000));
    const m = bySecond(out);
    for (let s = 1; s <= 9; s++) expect(m.get(T0 + s * 1000)?.videoFps).toBe(25);
  });

  it('reports every second exactly once when nothing arrives', () => {
    const b = new SecondBucketer(T0);
    const out = b.tick(T0 + 10_000);
    expect(out.map((s) => (s.second - T0) / 1000)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(out.every((s) => s.videoFps === 0 && s.audioKbps === 0)).toBe(true);
    expect(b.tick(T0 + 10_000)).toEqual([]);
  });

  it('re-reports a second when late packets arrive within retention, and drops older ones', () => {
    const b = new SecondBucketer(T0, { retentionMs: 5000 });
    b.connect(T0 - 100_000);
    b.tick(T0 + 10_000); // seconds up to T0+5 reported as zeros
    // a packet whose anchor maps it to T0+4 s (already reported)
    b.packet({ kind: 'video', time: 4.5, bytes: 1000 }, T0 + 4_500);
    const out = b.tick(T0 + 12_000);
    expect(out.find((s) => s.second === T0 + 4000)?.videoFps).toBe(1);
    b.packet({ kind: 'video', time: -3, bytes: 1000 }, T0 - 3_000); // a packet held back 15 s: too old
    b.tick(T0 + 14_000);
    expect(b.stats.late).toBe(1);
  });
});
