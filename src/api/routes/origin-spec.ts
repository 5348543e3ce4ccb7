import {
  BITRATE_PARAMS, FRAMERATE_PARAMS, HISTORY_PARAMS, ONLINE_PARAMS, STREAM_COUNT_PARAMS, STREAM_DETAIL_PARAMS, UP_BANDWIDTH_PARAMS,
  UP_STREAM_DETAIL_PARAMS,
} from '../../contract/origin/params.js';
import type { ParamSpec } from '../../contract/params.js';
import type { JsonSchema } from '../../contract/schema.js';
import { AUTHENTICATED_ERRORS, COUNT_SCHEMA, PROJECT_PARAMS, UTC_SECOND_SCHEMA } from '../spec/shared.js';
import type { RouteSpec } from '../spec/types.js';

/** What the eight publish-side routes declare for GET /openapi.json (their parameters are the contract's, src/contract/origin/). */
const obj = (properties: Record<string, JsonSchema>, description?: string): JsonSchema => ({
  type: 'object', additionalProperties: false, required: Object.keys(properties), properties, ...(description ? { description } : {}),
});
const str = (description: string): JsonSchema => ({ type: 'string', description });
const int = (description: string): JsonSchema => ({ ...COUNT_SCHEMA, description });
const time = (description: string): JsonSchema => ({ ...UTC_SECOND_SCHEMA, description });
const arr = (items: JsonSchema, description: string): JsonSchema => ({ type: 'array', items, description });

const STREAM_ID = { publish_domain: str('Publish domain'), app: str('Application'), stream: str('Stream') };
const run = (what: string): JsonSchema => obj({
  start_time: time('First second of the unbroken run'),
  end_time: time('The second after the run\'s last one (exclusive)'),
  data_list: arr(COUNT_SCHEMA, `${what}, one value per second of the run`),
});
const runWithStream = (what: string): JsonSchema => {
  const r = run(what) as { properties: Record<string, JsonSchema> };
  return obj({ ...STREAM_ID, ...r.properties });
};
const slotList = (what: string): JsonSchema => obj({
  data_list: arr(obj({ value: int(what), time: time('Start of the slot') }), 'One entry per slot of the window, oldest first, zero-filled'),
});

function spec(url: string, operationId: string, summary: string, params: readonly ParamSpec[], schema: JsonSchema, description?: string): RouteSpec {
  return {
    method: 'GET', url, operationId, tags: ['stats'], security: 'credentials', summary, ...(description ? { description } : {}),
    parameters: [...PROJECT_PARAMS, ...params],
    responses: { 200: { description: summary, content: { 'application/json': { schema } } } },
    errors: [...AUTHENTICATED_ERRORS, 'tooManyRequests'],
  };
}

export const onlineSpec = (url: string): RouteSpec => spec(url, 'ListLiveStreamsOnline', 'Streams publishing now on a publish domain, newest first, paged',
  ONLINE_PARAMS, obj({
    total_page: int('ceil(total_num / limit)'), total_num: int('Open sessions matching'), offset: int('The page number'), limit: int('Entries per page'),
    request_id: str('The X-Request-Id of this answer'),
    streams: arr(obj({
      ...STREAM_ID, video_codec: str('e.g. H264 (empty: unknown)'), audio_codec: str('e.g. AAC (empty: unknown)'),
      frame_rate: int('Latest video frame rate, fps'), bitrate: int('Latest input bitrate, kbit/s'), resolution: str('WIDTHxHEIGHT (empty: unknown)'),
      client_ip: str('The publisher\'s address'), start_time: time('When publishing began'),
    }), 'One page of open sessions'),
  }), 'A v1 path, as the provider\'s SDK calls it.');
export const historySpec = (url: string): RouteSpec => spec(url, 'ListHistoryStreams', 'Publish sessions overlapping the window, newest first, paged',
  HISTORY_PARAMS, obj({
    history_stream_list: arr(obj({
      domain: str('Publish domain'), app: str('Application'), stream: str('Stream'), type: { type: 'integer', enum: [0, 1], description: '0 publisher, 1 relay' },
      video_codec: str('Video codec'), audio_codec: str('Audio codec'), client_ip: str('Publisher address'),
      start_time: time('Session start'), end_time: time('Session end (now while still open)'),
    }), 'One page of sessions'),
    total: int('Sessions matching'),
  }));
export const streamCountSpec = (url: string): RouteSpec => spec(url, 'ShowStreamCount', 'Streams publishing at once per 5-minute slot, summed over the domains',
  STREAM_COUNT_PARAMS, slotList('Most streams publishing at once in the slot (per domain, summed)'));
export const upBandwidthSpec = (url: string): RouteSpec => spec(url, 'ShowUpBandwidth', 'Input (upstream) bandwidth per slot, bits per second, half-up',
  UP_BANDWIDTH_PARAMS, slotList('Input bytes x 8 / slot seconds'));
export const bitrateSpec = (url: string): RouteSpec => spec(url, 'ListSingleStreamBitrate', 'Per-second bitrate of one stream, one entry per unbroken run',
  BITRATE_PARAMS, obj({ bitrate_info_list: arr(runWithStream('kbit/s'), 'Unbroken runs, oldest first') }));
export const framerateSpec = (url: string): RouteSpec => spec(url, 'ListSingleStreamFramerate', 'Per-second video frame rate of one stream, one entry per unbroken run',
  FRAMERATE_PARAMS, obj({ framerate_info_list: arr(runWithStream('Video frames'), 'Unbroken runs, oldest first') }));
export const streamDetailSpec = (url: string): RouteSpec => spec(url, 'ListSingleStreamDetail', 'Per-second video frame rate and bitrate of one stream',
  STREAM_DETAIL_PARAMS, obj({ ...STREAM_ID, video_framerate: arr(run('Video frames'), 'Unbroken runs'), video_bitrate: arr(run('Video kbit/s'), 'Unbroken runs') }));
export const upStreamDetailSpec = (url: string): RouteSpec => spec(url, 'ListUpStreamDetail', 'Per-minute input quality of one stream (minutes with probe data)',
  UP_STREAM_DETAIL_PARAMS, obj({
    ...STREAM_ID,
    data: arr(obj({
      time: time('Start of the minute'), fps: int('Average video fps over the minute\'s live seconds'),
      rate: int('Average video + audio kbit/s over the minute\'s live seconds'),
      delay: int('Wall clock since the probe\'s first packet minus the stream\'s timestamp progress since then, ms'),
      gop_duration: int('Last complete GOP, ms'), last_video_pts: int('Last video timestamp, ms'), last_audio_pts: int('Last audio timestamp, ms'),
      last_video_audio_pts_diff: { type: 'integer', description: 'last_video_pts - last_audio_pts, ms' },
    }), 'One entry per minute with probe data, oldest first'),
  }));
