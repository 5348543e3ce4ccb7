import { describe, expect, it } from 'vitest';
import type { SeriesQuery } from './params.js';
import { runsOf, seriesBody, shapeBitrate, shapeFramerate, shapeStreamDetail, shapeUpStreamDetail, type QualitySample } from './series.js';

const t = (iso: string): number => Date.parse(iso);
const T0 = t('2028-03-01T10:00:00Z');
const q = (kind: SeriesQuery['kind'], over: Partial<SeriesQuery> = {}): SeriesQuery =>
  ({ kind, domain: 'push.example.com', app: 'live', stream: 's1', type: 'VIDEO', start: T0, end: T0 + 3_600_000, ...over });
const sample = (sec: number, over: Partial<QualitySample> = {}): QualitySample => ({
  second: T0 + sec * 1000, videoFps: 25, videoKbps: 1000 + sec, audioFps: 43, audioKbps: 128,
  gopMs: 2000, lastVideoPtsMs: 5000 + sec * 1000, lastAudioPtsMs: 4980 + sec * 1000, delayMs: 40, ...over,
});

describe('per-second runs', () => {
  it('splits at breaks: a missing second or a second of zeros', () => {
    const samples = [sample(0), sample(1), sample(2), sample(4), sample(5, { videoFps: 0, audioFps: 0, videoKbps: 0, audioKbps: 0 }), sample(6)];
    expect(runsOf(q('framerate'), samples, (s) => s.videoKbps)).toEqual([
      { start_time: '2028-03-01T10:00:00Z', end_time: '2028-03-01T10:00:03Z', data_list: [1000, 1001, 1002] },
      { start_time: '2028-03-01T10:00:04Z', end_time: '2028-03-01T10:00:05Z', data_list: [1004] },
      { start_time: '2028-03-01T10:00:06Z', end_time: '2028-03-01T10:00:07Z', data_list: [1006] },
    ]);
  });
  it('keeps only seconds inside [start, end), in time order, whatever order the samples come in', () => {
    const samples = [sample(3), sample(-1), sample(2), sample(1), sample(4)];
    expect(runsOf(q('framerate', { start: T0 + 1000, end: T0 + 4000 }), samples, (s) => s.videoFps))
      .toEqual([{ start_time: '2028-03-01T10:00:01Z', end_time: '2028-03-01T10:00:04Z', data_list: [25, 25, 25] }]);
  });
  it('an audio-only second is live (not a break) and lists 0 video', () => {
    expect(runsOf(q('framerate'), [sample(0), sample(1, { videoFps: 0, videoKbps: 0 })], (s) => s.videoFps))
      .toEqual([{ start_time: '2028-03-01T10:00:00Z', end_time: '2028-03-01T10:00:02Z', data_list: [25, 0] }]);
  });
  it('no data: empty lists', () => {
    expect(shapeBitrate(q('bitrate'), [])).toEqual({ bitrate_info_list: [] });
  });
});

describe('response bodies', () => {
  const samples = [sample(0), sample(1), sample(3)];
  it('ListSingleStreamBitrate: video by default, audio with type=AUDIO, one entry per run', () => {
    expect(shapeBitrate(q('bitrate'), samples)).toEqual({
      bitrate_info_list: [
        { publish_domain: 'push.example.com', app: 'live', stream: 's1', start_time: '2028-03-01T10:00:00Z', end_time: '2028-03-01T10:00:02Z', data_list: [1000, 1001] },
        { publish_domain: 'push.example.com', app: 'live', stream: 's1', start_time: '2028-03-01T10:00:03Z', end_time: '2028-03-01T10:00:04Z', data_list: [1003] },
      ],
    });
    expect(shapeBitrate(q('bitrate', { type: 'AUDIO' }), samples).bitrate_info_list.map((r) => r.data_list)).toEqual([[128, 128], [128]]);
  });
  it('ListSingleStreamFramerate and ListSingleStreamDetail', () => {
    expect(shapeFramerate(q('framerate'), samples).framerate_info_list.map((r) => r.data_list)).toEqual([[25, 25], [25]]);
    const d = shapeStreamDetail(q('detail'), samples);
    expect(Object.keys(d)).toEqual(['publish_domain', 'app', 'stream', 'video_framerate', 'video_bitrate']);
    expect(d.video_framerate).toEqual([
      { start_time: '2028-03-01T10:00:00Z', end_time: '2028-03-01T10:00:02Z', data_list: [25, 25] },
      { start_time: '2028-03-01T10:00:03Z', end_time: '2028-03-01T10:00:04Z', data_list: [25] },
    ]);
    expect(d.video_bitrate.map((r) => r.data_list)).toEqual([[1000, 1001], [1003]]);
  });
  it('ListUpStreamDetail: one entry per minute with live seconds; averages half-up over live seconds; last-second values', () => {
    const s = [
      sample(0, { videoFps: 24 }), sample(1, { videoFps: 25 }), sample(2, { videoFps: 0, audioFps: 0 }),
      sample(59, { videoFps: 30, gopMs: 1960, delayMs: 120 }),
      sample(125, { videoFps: 10, lastAudioPtsMs: 200_000 }),
    ];
    expect(shapeUpStreamDetail(q('upstream'), s)).toEqual({
      publish_domain: 'push.example.com', app: 'live', stream: 's1',
      data: [
        // fps (24 + 25 + 30) / 3 = 26.33 -> 26; rate (1128 + 1129 + 1187) / 3 = 1148
        { time: '2028-03-01T10:00:00Z', fps: 26, rate: 1148, delay: 120, gop_duration: 1960, last_video_pts: 64_000, last_audio_pts: 63_980, last_video_audio_pts_diff: 20 },
        { time: '2028-03-01T10:02:00Z', fps: 10, rate: 1253, delay: 40, gop_duration: 2000, last_video_pts: 130_000, last_audio_pts: 200_000, last_video_audio_pts_diff: -70_000 },
      ],
    });
    // half-up: (25 + 26) / 2 = 25.5 -> 26
    expect(shapeUpStreamDetail(q('upstream'), [sample(0), sample(1, { videoFps: 26 })]).data[0]?.fps).toBe(26);
  });
});

describe('seriesBody (what a read worker sends)', () => {
  it('is the bytes of the kind\'s shaped answer, in a buffer of its own', () => {
    const samples = [sample(0), sample(1), sample(3), sample(61, { audioKbps: 96 })];
    const shapes = { bitrate: shapeBitrate, framerate: shapeFramerate, detail: shapeStreamDetail, upstream: shapeUpStreamDetail } as const;
    for (const kind of ['bitrate', 'framerate', 'detail', 'upstream'] as const) {
      const body = seriesBody(q(kind, { type: 'AUDIO' }), samples);
      expect(new TextDecoder().decode(body)).toBe(JSON.stringify(shapes[kind](q(kind, { type: 'AUDIO' }), samples)));
      expect(body.byteOffset).toBe(0);
      expect(body.buffer.byteLength).toBe(body.byteLength);
    }
  });
});
