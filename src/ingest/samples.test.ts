import { describe, expect, it } from 'vitest';
import { parseSampleTime, validateSamples } from './samples.js';

const NOW = Date.UTC(2026, 10, 23, 2, 0, 0);
const ok = { time: '2026-11-23T01:59:30Z', video_fps: 25, video_kbps: 1500, audio_fps: 43, audio_kbps: 128 };

describe('parseSampleTime', () => {
  it('accepts ISO-8601 with Z, offsets and fractions, and epoch seconds', () => {
    expect(parseSampleTime('2026-11-23T01:59:30Z')).toBe(Date.UTC(2026, 10, 23, 1, 59, 30));
    expect(parseSampleTime('2026-11-23T09:59:30.999+08:00')).toBe(Date.UTC(2026, 10, 23, 1, 59, 30));
    expect(parseSampleTime('2026-11-22T20:59:30-0500')).toBe(Date.UTC(2026, 10, 23, 1, 59, 30));
    expect(parseSampleTime(1_795_400_000.7)).toBe(1_795_400_000_000);
  });

  it('rejects impossible dates, missing zones, and non-times', () => {
    for (const bad of ['2026-02-30T00:00:00Z', '2026-11-23T24:00:00Z', '2026-11-23T01:59:30', '2026-11-23', 'yesterday', '', '2026-11-23T01:59:30+25:00']) {
      expect(typeof parseSampleTime(bad)).toBe('string');
    }
    for (const bad of [-1, Number.NaN, Infinity, null, true, {}, [], '1795400000']) {
      expect(typeof parseSampleTime(bad)).toBe('string');
    }
  });
});

describe('validateSamples', () => {
  it('keeps valid samples and names each rejected index with its reason', () => {
    const r = validateSamples([
      ok,
      { ...ok, video_fps: -1 },
      { ...ok, audio_kbps: 1.5 },
      { ...ok, video_kbps: 2_000_000 },
      { ...ok, extra: 1 },
      'not an object',
      { ...ok, time: '2026-11-10T00:00:00Z' },
      { ...ok, time: '2026-11-23T03:00:00Z' },
      { video_fps: 1, video_kbps: 1, audio_fps: 1, audio_kbps: 1 },
      { ...ok, audio_fps: undefined },
      { ...ok, time: (NOW - 5000) / 1000 },
    ], NOW);
    expect(r.samples).toEqual([
      { second: Date.UTC(2026, 10, 23, 1, 59, 30), videoFps: 25, videoKbps: 1500, audioFps: 43, audioKbps: 128 },
      { second: NOW - 5000, videoFps: 25, videoKbps: 1500, audioFps: 43, audioKbps: 128 },
    ]);
    expect(r.rejected).toEqual([
      { index: 1, reason: 'video_fps must not be negative' },
      { index: 2, reason: 'audio_kbps must be an integer' },
      { index: 3, reason: 'video_kbps exceeds 1000000' },
      { index: 4, reason: 'unknown field "extra"' },
      { index: 5, reason: 'sample must be a JSON object' },
      { index: 6, reason: 'time is more than 7 days in the past' },
      { index: 7, reason: 'time is more than 5 minutes in the future' },
      { index: 8, reason: 'time is required' },
      { index: 9, reason: 'audio_fps is required' },
    ]);
  });

  it('rejects numbers in strings and prototype keys', () => {
    const r = validateSamples([{ ...ok, video_fps: '25' }, JSON.parse('{"__proto__": {"x": 1}}')], NOW);
    expect(r.samples).toEqual([]);
    expect(r.rejected.map((x) => x.reason)).toEqual(['video_fps must be an integer', 'unknown field "__proto__"']);
  });
});
