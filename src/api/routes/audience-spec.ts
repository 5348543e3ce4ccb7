import { PLAY_INFO_PARAMS, PORTRAIT_PARAMS, USERS_PARAMS } from '../../contract/audience/params.js';
import { AUDIENCE_PROTOCOLS } from '../../contract/audience/values.js';
import type { JsonSchema } from '../../contract/schema.js';
import { AUTHENTICATED_ERRORS, COUNT_SCHEMA, PROJECT_PARAMS, UTC_SECOND_SCHEMA } from '../spec/shared.js';
import type { RouteSpec } from '../spec/types.js';

/**
 * What the three audience routes declare for GET /openapi.json. Their parameters are the
 * declarations the audience contract (src/contract/audience/) reads and checks.
 */
const object = (properties: Record<string, JsonSchema>): JsonSchema => ({
  type: 'object', additionalProperties: false, required: Object.keys(properties), properties,
});
const count = (description: string): JsonSchema => ({ ...COUNT_SCHEMA, description });

function spec(o: { url: string; operationId: string; summary: string; description: string; params: RouteSpec['parameters']; body: JsonSchema }): RouteSpec {
  return {
    method: 'GET', url: o.url, operationId: o.operationId, tags: ['stats'], security: 'credentials', summary: o.summary,
    description: o.description,
    parameters: [...PROJECT_PARAMS, ...o.params],
    responses: { 200: { description: o.summary, content: { 'application/json': { schema: o.body } } } },
    errors: [...AUTHENTICATED_ERRORS, 'tooManyRequests'],
  };
}

export const usersSpec = (url: string): RouteSpec => spec({
  url, operationId: 'ListUsersOfStream', summary: 'Online viewers per slot of one play domain',
  description: 'Online viewers of a minute: FLV and RTMP sessions overlapping it plus distinct HLS client IPs of it. At interval=300 ' +
    'a slot\'s value is the largest of its five minutes. Slots aligned in UTC, oldest first, zero-filled; slots not yet begun are ' +
    'left out. Recent minutes may still grow as long FLV sessions end (their log line is written when they close).',
  params: USERS_PARAMS,
  body: object({
    data_list: { type: 'array', items: object({ value: count('Online viewers'), time: { ...UTC_SECOND_SCHEMA, description: 'Start of the slot' } }) },
  }),
});

export const playInfoSpec = (url: string): RouteSpec => spec({
  url, operationId: 'ListPlayDomainStreamInfo', summary: 'The live streams of one minute: bandwidth and online viewers',
  description: 'One entry per (domain, app, stream, protocol) with traffic or viewers in the minute, ordered by domain, stream, protocol; ' +
    'bandwidth = bytes of the minute x 8 / 60, half-up. Requests of no known stream URI shape are not listed.',
  params: PLAY_INFO_PARAMS,
  body: object({
    time: { ...UTC_SECOND_SCHEMA, description: 'The minute' },
    data_list: {
      type: 'array',
      items: object({
        play_domain: { type: 'string' },
        stream: { type: 'string', description: 'Stream name (the application is not in this shape)' },
        protocol: { type: 'string', enum: [...AUDIENCE_PROTOCOLS] },
        bandwidth: count('Bits per second over the minute'),
        online: count('Online viewers of the minute'),
      }),
    },
  }),
});

export const portraitSpec = (url: string): RouteSpec => spec({
  url, operationId: 'ShowStreamPortrait', summary: 'One past UTC day of a stream (or a whole play domain)',
  description: 'Exactly one entry, for the requested day, every protocol.',
  params: PORTRAIT_PARAMS,
  body: object({
    stream_portraits: {
      type: 'array', minItems: 1, maxItems: 1,
      items: object({
        time: { type: 'string', pattern: '^[0-9]{8}$', description: 'The day, YYYYMMDD' },
        flow: count('Bytes sent'),
        play_duration: count('Seconds viewed: FLV/RTMP session seconds plus 60 per HLS (IP, minute)'),
        request_count: count('Log lines'),
        user_count: count('Distinct client IPs of the day'),
        peak_user_count: count('The largest per-minute online viewers of the day'),
        peak_bandwidth: count('The largest 5-minute bandwidth of the day, bits per second'),
        push_duration: count('Seconds the stream was published that day (origin publish records; 0 when none)'),
      }),
    },
  }),
});
