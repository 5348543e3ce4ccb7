import { ApiError, invalidParameter } from './errors.js';
import { singleParam, type RawQuery } from './query.js';
import { SECOND, formatUtcSecond } from './time.js';
import { CAROUSEL_WINDOW, resolveWindow } from './window.js';

const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9._~:@-]{0,127}$/;
export const isTaskId = (s: string): boolean => TASK_ID.test(s);

/** A validated ListCarouselTaskDetail request: seconds [start, end), epoch ms, end already clamped to now. */
export interface CarouselQuery {
  taskId: string;
  start: number;
  end: number;
}

/** One stored per-second sample. */
export interface CarouselSample {
  second: number;
  videoFps: number;
  videoKbps: number;
  audioFps: number;
  audioKbps: number;
}

export interface CarouselResponse {
  start_time: string;
  end_time: string;
  video_framerate_list: number[];
  video_bitrate_list: number[];
  audio_framerate_list: number[];
  audio_bitrate_list: number[];
}

export function parseCarouselQuery(query: RawQuery, nowMs: number): CarouselQuery | ApiError {
  const task = singleParam(query, 'carousel_task_id');
  if (!task.ok || task.value === undefined) return invalidParameter('carousel_task_id');
  const taskId = task.value.trim();
  if (!isTaskId(taskId)) return invalidParameter('carousel_task_id');
  const window = resolveWindow(query, CAROUSEL_WINDOW, nowMs);
  if (window instanceof ApiError) return window;
  const end = Math.max(window.start, Math.min(window.end, window.now));
  return { taskId, start: window.start, end };
}

/** Dense per-second lists, index i = second start + i, zero where no sample exists. */
export function shapeCarousel(q: CarouselQuery, samples: readonly CarouselSample[]): CarouselResponse {
  const n = Math.max(0, Math.floor((q.end - q.start) / SECOND));
  const vf = new Array<number>(n).fill(0);
  const vk = new Array<number>(n).fill(0);
  const af = new Array<number>(n).fill(0);
  const ak = new Array<number>(n).fill(0);
  for (const s of samples) {
    const i = (s.second - q.start) / SECOND;
    if (!Number.isInteger(i) || i < 0 || i >= n) continue;
    vf[i] = s.videoFps;
    vk[i] = s.videoKbps;
    af[i] = s.audioFps;
    ak[i] = s.audioKbps;
  }
  return {
    start_time: formatUtcSecond(q.start),
    end_time: formatUtcSecond(q.end),
    video_framerate_list: vf,
    video_bitrate_list: vk,
    audio_framerate_list: af,
    audio_bitrate_list: ak,
  };
}

/** The response as JSON text (integer lists joined directly). */
export function carouselJson(q: CarouselQuery, samples: readonly CarouselSample[]): string {
  const r = shapeCarousel(q, samples);
  return `{"start_time":"${r.start_time}","end_time":"${r.end_time}",` +
    `"video_framerate_list":[${r.video_framerate_list.join(',')}],"video_bitrate_list":[${r.video_bitrate_list.join(',')}],` +
    `"audio_framerate_list":[${r.audio_framerate_list.join(',')}],"audio_bitrate_list":[${r.audio_bitrate_list.join(',')}]}`;
}
