import { ApiError } from './errors.js';
import { present, readSingle, type ParamSpec } from './params.js';
import type { RawQuery } from './query.js';
import { SECOND, formatUtcSecond } from './time.js';
import { CAROUSEL_WINDOW, END_TIME_PARAM, resolveWindow, START_TIME_PARAM } from './window.js';

const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9._~:@-]{0,127}$/;
export const isTaskId = (s: string): boolean => TASK_ID.test(s);
/** The JSON Schema of a carousel task id (letters, digits and . _ ~ : @ -, up to 128). */
export const TASK_ID_SCHEMA: ParamSpec['schema'] = { type: 'string', pattern: TASK_ID.source, examples: ['channel-1', 'cam:1@edge-7'] };

export const CAROUSEL_TASK_ID_PARAM: ParamSpec = {
  name: 'carousel_task_id', in: 'query', kind: 'single', required: true, trim: true,
  description: 'The carousel task id (surrounding whitespace ignored).',
  schema: TASK_ID_SCHEMA,
};

/** ListCarouselTaskDetail's query parameters, in the order they are checked. */
export const CAROUSEL_PARAMS: readonly ParamSpec[] = [
  CAROUSEL_TASK_ID_PARAM,
  { ...START_TIME_PARAM, description: 'Window start, UTC, YYYY-MM-DDThh:mm:ssZ; default end_time minus 1 hour; span at most 3 hours; at most 7 days ago.' },
  END_TIME_PARAM,
];

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
  const taskId = present(readSingle(query, CAROUSEL_TASK_ID_PARAM), CAROUSEL_TASK_ID_PARAM);
  if (taskId instanceof ApiError) return taskId;
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
