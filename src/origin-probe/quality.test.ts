import { describe, expect, it } from 'vitest';
import { QualityTracker } from './quality.js';

const v = (t: number, key = false): string => `codec_type=video|pts_time=${t.toFixed(6)}|dts_time=${t.toFixed(6)}|size=1000|flags=${key ? 'K_' : '__'}`;
const a = (t: number): string => `codec_type=audio|pts_time=${t.toFixed(6)}|dts_time=${t.toFixed(6)}|size=200|flags=K_`;
const zero = { second: 0, videoFps: 25, videoKbps: 1, audioFps: 43, audioKbps: 1 };

describe('QualityTracker', () => {
  it('GOP from key frame to key frame, last pts per kind, in ms', () => {
    const q = new QualityTracker();
    const t0 = 1_000_000;
    for (let i = 0; i < 125; i++) q.line(v(10 + i * 0.04, i % 50 === 0), t0 + i * 40);
    q.line(a(14.96), t0 + 4960);
    expect(q.complete(zero)).toEqual({ ...zero, gopMs: 2000, lastVideoPtsMs: 14_960, lastAudioPtsMs: 14_960, delayMs: 0 });
  });
  it('delay: wall time minus timestamp progress; grows when the stream falls behind; restarts after a jump', () => {
    const q = new QualityTracker();
    q.line(v(100, true), 5_000);
    q.line(v(101), 6_000);
    expect(q.delay()).toBe(0);
    q.line(v(102), 7_500); // 2.5 s of wall clock for 2 s of stream
    expect(q.delay()).toBe(500);
    q.line(v(3, true), 8_000); // publisher restarted: timestamps from 3 s
    expect(q.delay()).toBe(0);
    q.line(v(4), 9_100);
    expect(q.delay()).toBe(100);
  });
  it('ignores lines that are not packets; negative timestamps report 0', () => {
    const q = new QualityTracker();
    q.line('garbage', 1);
    q.line('codec_type=subtitle|pts_time=1|dts_time=1|size=3', 2);
    q.line(v(-0.5, true), 3);
    expect(q.complete(zero)).toMatchObject({ gopMs: 0, lastVideoPtsMs: 0, delayMs: 0 });
  });
});
