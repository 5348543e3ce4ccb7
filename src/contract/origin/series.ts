import { MINUTE, SECOND, formatUtcSecond } from '../time.js';
import type { SeriesQuery, StreamKey } from './params.js';

/**
 * One second of a probed stream's quality, as stored (the carousel sample's four values plus what
 * ListUpStreamDetail reports). Every value is a non-negative integer.
 */
export interface QualitySample {
  /** Epoch ms of the second. */
  second: number;
  videoFps: number;
  videoKbps: number;
  audioFps: number;
  audioKbps: number;
  /** Duration of the last complete GOP seen by this second (keyframe to keyframe), ms; 0: none yet. */
  gopMs: number;
  /** The stream's last video and audio timestamps (pts) by this second, ms. */
  lastVideoPtsMs: number;
  lastAudioPtsMs: number;
  /** Wall-clock time since the probe's first packet minus the stream's timestamp progress since then, ms (>= 0). */
  delayMs: number;
}

/** The measures of a QualitySample in stored order (index = position in a stored row of 8 values). */
export const QUALITY_MEASURES = ['videoFps', 'videoKbps', 'audioFps', 'audioKbps', 'gopMs', 'lastVideoPtsMs', 'lastAudioPtsMs', 'delayMs'] as const;

/** A second counts as live when the probe received packets in it; a second without a sample, or of zeros, is a break. */
export const isLive = (s: QualitySample): boolean => s.videoFps + s.audioFps > 0;

export interface Run {
  start_time: string;
  /** Exclusive: the second after the run's last one (data_list has (end - start) / 1 s values). */
  end_time: string;
  data_list: number[];
}

/**
 * The unbroken runs of live seconds inside [q.start, q.end), oldest first: a break (a second without
 * packets) ends a run. `pick` chooses the value listed for each second.
 */
export function runsOf(q: Pick<SeriesQuery, 'start' | 'end'>, samples: readonly QualitySample[], pick: (s: QualitySample) => number): Run[] {
  const live = samples
    .filter((s) => s.second >= q.start && s.second < q.end && s.second % SECOND === 0 && isLive(s))
    .sort((a, b) => a.second - b.second);
  const runs: Run[] = [];
  let first = 0;
  let list: number[] = [];
  let prev = -Infinity;
  const close = (): void => {
    if (list.length > 0) runs.push({ start_time: formatUtcSecond(first), end_time: formatUtcSecond(prev + SECOND), data_list: list });
  };
  for (const s of live) {
    if (s.second === prev) continue; // a duplicate second: the first one stands
    if (s.second !== prev + SECOND) {
      close();
      first = s.second;
      list = [];
    }
    list.push(pick(s));
    prev = s.second;
  }
  close();
  return runs;
}

const streamFields = (k: StreamKey): { publish_domain: string; app: string; stream: string } =>
  ({ publish_domain: k.domain, app: k.app, stream: k.stream });

export interface BitrateResponse {
  bitrate_info_list: Array<{ publish_domain: string; app: string; stream: string } & Run>;
}
export interface FramerateResponse {
  framerate_info_list: Array<{ publish_domain: string; app: string; stream: string } & Run>;
}
export interface StreamDetailResponse {
  publish_domain: string;
  app: string;
  stream: string;
  video_framerate: Run[];
  video_bitrate: Run[];
}
export interface UpStreamMinute {
  time: string;
  fps: number;
  rate: number;
  delay: number;
  gop_duration: number;
  last_video_pts: number;
  last_audio_pts: number;
  last_video_audio_pts_diff: number;
}
export interface UpStreamDetailResponse {
  publish_domain: string;
  app: string;
  stream: string;
  data: UpStreamMinute[];
}

/** ListSingleStreamBitrate: kbit/s of the chosen type (VIDEO or AUDIO) per second, one entry per unbroken run. */
export function shapeBitrate(q: SeriesQuery, samples: readonly QualitySample[]): BitrateResponse {
  const pick = q.type === 'AUDIO' ? (s: QualitySample) => s.audioKbps : (s: QualitySample) => s.videoKbps;
  return { bitrate_info_list: runsOf(q, samples, pick).map((r) => ({ ...streamFields(q), ...r })) };
}

/** ListSingleStreamFramerate: video frames per second, one entry per unbroken run. */
export function shapeFramerate(q: SeriesQuery, samples: readonly QualitySample[]): FramerateResponse {
  return { framerate_info_list: runsOf(q, samples, (s) => s.videoFps).map((r) => ({ ...streamFields(q), ...r })) };
}

/** ListSingleStreamDetail: the video frame rate and bitrate runs. */
export function shapeStreamDetail(q: SeriesQuery, samples: readonly QualitySample[]): StreamDetailResponse {
  return {
    ...streamFields(q),
    video_framerate: runsOf(q, samples, (s) => s.videoFps),
    video_bitrate: runsOf(q, samples, (s) => s.videoKbps),
  };
}

/** Integer average, rounded half-up. */
const average = (sum: number, n: number): number => (n === 0 ? 0 : Math.floor((2 * sum + n) / (2 * n)));

/**
 * ListUpStreamDetail: one entry per minute of the window with live seconds, oldest first. fps and rate
 * (video + audio kbit/s) are averages over the minute's live seconds, rounded half-up; gop_duration,
 * the last timestamps and delay are those of the minute's last live second; the pts difference is
 * video minus audio (may be negative).
 */
export function shapeUpStreamDetail(q: SeriesQuery, samples: readonly QualitySample[]): UpStreamDetailResponse {
  const byMinute = new Map<number, { n: number; fps: number; rate: number; last: QualitySample }>();
  for (const s of samples) {
    if (s.second < q.start || s.second >= q.end || s.second % SECOND !== 0 || !isLive(s)) continue;
    const m = Math.floor(s.second / MINUTE) * MINUTE;
    const e = byMinute.get(m);
    if (!e) {
      byMinute.set(m, { n: 1, fps: s.videoFps, rate: s.videoKbps + s.audioKbps, last: s });
    } else {
      e.n++;
      e.fps += s.videoFps;
      e.rate += s.videoKbps + s.audioKbps;
      if (s.second > e.last.second) e.last = s;
    }
  }
  const data: UpStreamMinute[] = [...byMinute.entries()].sort((a, b) => a[0] - b[0]).map(([m, e]) => ({
    time: formatUtcSecond(m),
    fps: average(e.fps, e.n),
    rate: average(e.rate, e.n),
    delay: e.last.delayMs,
    gop_duration: e.last.gopMs,
    last_video_pts: e.last.lastVideoPtsMs,
    last_audio_pts: e.last.lastAudioPtsMs,
    last_video_audio_pts_diff: e.last.lastVideoPtsMs - e.last.lastAudioPtsMs,
  }));
  return { ...streamFields(q), data };
}

/** The answer of one of the four per-stream series operations, by the query's kind. */
export function shapeSeries(q: SeriesQuery, samples: readonly QualitySample[]): object {
  switch (q.kind) {
    case 'bitrate': return shapeBitrate(q, samples);
    case 'framerate': return shapeFramerate(q, samples);
    case 'detail': return shapeStreamDetail(q, samples);
    case 'upstream': return shapeUpStreamDetail(q, samples);
  }
}

/**
 * The answer as UTF-8 bytes with a buffer of their own (transferable from a read worker: never a
 * slice of Node's shared Buffer pool). The same bytes as JSON.stringify(shapeSeries(q, samples)).
 */
export function seriesBody(q: SeriesQuery, samples: readonly QualitySample[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(shapeSeries(q, samples)));
}
