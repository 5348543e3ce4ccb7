import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, invalidParameter, quoted, storeUnavailable } from '../../contract/errors.js';
import { domainReason } from '../../contract/reasons.js';
import type { ParamSpec } from '../../contract/params.js';
import { parseNginxNotify, parseSrsHook, type EventRefusal, type OriginEvent } from '../../origin/events.js';
import { OriginWriteHeld, StreamLimitError, type OriginTracker } from '../../origin/tracker.js';
import { normalizeDomain } from '../../contract/domain.js';
import { rawSearch } from '../../contract/query.js';
import { MAX_NAME_LENGTH } from '../../contract/traffic/values.js';
import type { AppContext } from '../context.js';
import { projectOf } from '../project.js';
import { AUTHENTICATED_ERRORS, PROJECT_PARAMS } from '../spec/shared.js';
import type { RouteSpec } from '../spec/types.js';
import { gateBody } from '../body-gate.js';

export const INGEST_ORIGIN_NGINX_PATH = '/ingest/v1/:project_id/origin/nginx';
export const INGEST_ORIGIN_SRS_PATH = '/ingest/v1/:project_id/origin/srs';
/** A notification is a few hundred bytes; anything beyond this is not one. */
export const MAX_NOTIFY_BODY_BYTES = 16 * 1024;

/** An origin's name: the `origin` parameter's schema and its check, one pattern. */
const ORIGIN_NAME = /^[A-Za-z0-9._:-]{1,128}$/;
const ORIGIN_PARAM: ParamSpec = {
  name: 'origin', in: 'query', kind: 'single',
  description: 'The origin\'s name, as in --origin-stat (#name=); default: the address the notification comes from. ' +
    'A notification and a statistics poll describe the same session when their origin names agree.',
  schema: { type: 'string', pattern: ORIGIN_NAME.source },
};
const DOMAIN_PARAM: ParamSpec = {
  name: 'domain', in: 'query', kind: 'single',
  description: 'The publish domain of this origin\'s streams; default: the host of tcurl (nginx) or the vhost/tcUrl (SRS).',
  schema: { type: 'string' },
};
const TOKEN_PARAM: ParamSpec = {
  name: 'token', in: 'query', kind: 'single',
  description: 'The project\'s X-Auth-Token, for origins that cannot send headers (it then shows in their logs: prefer the header, see docs/origin.md).',
  schema: { type: 'string' },
};

const okSchema = { type: 'object', additionalProperties: false, required: ['code'], properties: { code: { type: 'integer', enum: [0] } } } as const;

function spec(url: string, operationId: string, summary: string, content: string): RouteSpec {
  return {
    method: 'POST', url, operationId, tags: ['ingest'], security: 'credentials', summary,
    description: 'Answers {"code":0} once the session change is committed (also for calls it ignores, e.g. connect). ' +
      'See docs/origin.md for the origin settings that keep publishers streaming when livestats is down.',
    parameters: [...PROJECT_PARAMS, ORIGIN_PARAM, DOMAIN_PARAM, TOKEN_PARAM],
    requestBody: { required: true, description: 'One notification', content: { [content]: { schema: { type: content === 'application/json' ? 'object' : 'string' } } } },
    responses: { 200: { description: 'Applied (or ignored)', content: { 'application/json': { schema: okSchema } } } },
    errors: [...AUTHENTICATED_ERRORS, 'payloadTooLarge', 'storeUnavailable', 'busy'],
  };
}

export const INGEST_ORIGIN_NGINX_SPEC = spec(INGEST_ORIGIN_NGINX_PATH, 'IngestOriginNginx', 'An nginx-rtmp notification (on_publish, on_publish_done, on_update, on_play, on_play_done)', 'application/x-www-form-urlencoded');
export const INGEST_ORIGIN_SRS_SPEC = spec(INGEST_ORIGIN_SRS_PATH, 'IngestOriginSrs', 'An SRS HTTP callback (on_publish, on_unpublish, on_play, on_stop)', 'application/json');

const refusalParam: Record<EventRefusal, string> = { bad_call: 'call', bad_name: 'name', bad_client: 'clientid', ignored_call: 'call' };

/** Why a notification was refused, in words (the 400's reason: server log and X-Livestats-Error-Reason). */
function refusalReason(kind: 'nginx' | 'srs', refusal: EventRefusal, field: (name: string) => string | undefined, isObject: boolean): string {
  const given = (name: string): string => {
    const v = field(name);
    return v === undefined || v === '' ? `the field ${name} is missing` : `the field ${name} is ${quoted(v)}`;
  };
  if (refusal === 'bad_call') {
    if (kind === 'srs') {
      return isObject ? `${given('action')}; expected on_publish, on_unpublish, on_play or on_stop (on_connect, on_close, on_dvr, on_hls and on_hls_notify are ignored)`
        : 'the body is not a JSON object (an SRS HTTP callback)';
    }
    return `${given('call')}; expected publish, publish_done, update_publish, play, play_done or update_play (connect, done, record_done and update are ignored)`;
  }
  if (refusal === 'bad_name') {
    const stream = kind === 'srs' ? 'stream' : 'name';
    return `the fields app and ${stream} must each be 1 to ${MAX_NAME_LENGTH} characters without '/' or control characters (${given('app')}, ${given(stream)})`;
  }
  return kind === 'srs' ? `${given('client_id')}; expected 1 to 64 of A-Z, a-z, 0-9, '_' and '-'` : `${given('clientid')}; expected 1 to 20 digits`;
}

/** The notify URL's parameters, parsed once per request (the token hook and the handler both read them). */
const queries = new WeakMap<FastifyRequest, URLSearchParams>();
function query(request: FastifyRequest): URLSearchParams {
  let q = queries.get(request);
  if (q === undefined) {
    q = new URLSearchParams(rawSearch(request.url));
    queries.set(request, q);
  }
  return q;
}

/**
 * POST /ingest/v1/{project_id}/origin/nginx and /origin/srs: origin notifications (docs/origin.md).
 * Authenticated like every ingest route (AK/SK or X-Auth-Token; `?token=` is read as X-Auth-Token
 * for origins that cannot send headers), then parsed and applied to the tracker, which writes the
 * change before the answer. Without a tracker (no origin intake configured) the routes are absent.
 */
export function ingestOriginRoutes(app: FastifyInstance, ctx: AppContext, tracker: OriginTracker | undefined): void {
  if (!tracker) return;
  const limit = Math.min(ctx.ingest.maxBodyBytes, MAX_NOTIFY_BODY_BYTES);
  const handle = (kind: 'nginx' | 'srs') => async (request: FastifyRequest): Promise<{ code: 0 }> => {
    const q = query(request);
    const project = await projectOf(ctx, request);
    const originText = q.get('origin');
    if (originText !== null && !ORIGIN_NAME.test(originText)) {
      throw invalidParameter('origin', `${quoted(originText)} is not accepted: origin is 1 to 128 of A-Z, a-z, 0-9, '.', '_', ':' and '-'`);
    }
    const origin = originText ?? (request.socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
    const domainText = q.get('domain');
    const domain = domainText === null ? undefined : normalizeDomain(domainText);
    if (domainText !== null && domain === undefined) throw invalidParameter('domain', domainReason(domainText));
    const body = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '';
    let parsed: OriginEvent | EventRefusal;
    let field: (name: string) => string | undefined;
    let isObject = true;
    if (kind === 'nginx') {
      const fields = new URLSearchParams(body);
      field = (name) => fields.get(name) ?? undefined;
      parsed = parseNginxNotify(fields, origin, domain);
    } else {
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        const e = new ApiError('invalidParameter', 'Invalid request parameter: body (not valid JSON)');
        e.reason = body.length === 0 ? 'the body is empty; an SRS HTTP callback is a JSON object' : 'the body is not valid JSON; an SRS HTTP callback is a JSON object';
        throw e;
      }
      isObject = typeof json === 'object' && json !== null && !Array.isArray(json);
      const b = (isObject ? json : {}) as Record<string, unknown>;
      field = (name) => (typeof b[name] === 'string' || typeof b[name] === 'number' ? String(b[name]) : undefined);
      parsed = parseSrsHook(json, origin, domain);
    }
    if (typeof parsed === 'string') {
      tracker.count(parsed);
      if (parsed === 'ignored_call') return { code: 0 };
      throw invalidParameter(kind === 'srs' && parsed === 'bad_call' ? 'action' : kind === 'srs' && parsed === 'bad_client' ? 'client_id' : refusalParam[parsed],
        refusalReason(kind, parsed, field, isObject));
    }
    try {
      await tracker.event(project, parsed);
    } catch (err) {
      if (err instanceof StreamLimitError) throw invalidParameter(kind === 'srs' ? 'stream' : 'name', `${err.message}; this one was not recorded`);
      // Applied, its write held and sent again before the next origin operation: accepted (docs/origin.md).
      if (err instanceof OriginWriteHeld) {
        request.log.warn({ err }, 'origin notification held for a retried write');
        return { code: 0 };
      }
      request.log.warn({ err }, 'origin notification not stored');
      throw storeUnavailable('store_unreachable');
    }
    return { code: 0 };
  };
  // Before the body gate authenticates from the headers: `?token=` stands for X-Auth-Token when no credential header is sent.
  const tokenFromQuery = (request: FastifyRequest, _reply: unknown, done: () => void): void => {
    const token = query(request).get('token');
    if (token !== null && request.headers['x-auth-token'] === undefined && request.headers.authorization === undefined) {
      request.headers['x-auth-token'] = token;
    }
    done();
  };
  const options = (openapi: RouteSpec) => ({ bodyLimit: limit, onRequest: tokenFromQuery, preParsing: gateBody(ctx, limit), config: { openapi } });
  app.post(INGEST_ORIGIN_NGINX_PATH, options(INGEST_ORIGIN_NGINX_SPEC), handle('nginx'));
  app.post(INGEST_ORIGIN_SRS_PATH, options(INGEST_ORIGIN_SRS_SPEC), handle('srs'));
}
