import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, storeUnavailable } from '../../contract/errors.js';
import type { ParamSpec } from '../../contract/params.js';
import { parseNginxNotify, parseSrsHook, type EventRefusal, type OriginEvent } from '../../origin/events.js';
import type { OriginTracker } from '../../origin/tracker.js';
import { normalizeDomain } from '../../contract/domain.js';
import type { AppContext } from '../context.js';
import { projectOf } from '../project.js';
import { AUTHENTICATED_ERRORS, PROJECT_PARAMS } from '../spec/shared.js';
import type { RouteSpec } from '../spec/types.js';
import { gateBody } from '../body-gate.js';

export const INGEST_ORIGIN_NGINX_PATH = '/ingest/v1/:project_id/origin/nginx';
export const INGEST_ORIGIN_SRS_PATH = '/ingest/v1/:project_id/origin/srs';
/** A notification is a few hundred bytes; anything beyond this is not one. */
export const MAX_NOTIFY_BODY_BYTES = 16 * 1024;

const ORIGIN_PARAM: ParamSpec = {
  name: 'origin', in: 'query', kind: 'single',
  description: 'The origin\'s name, as in --origin-stat (#name=); default: the address the notification comes from. ' +
    'A notification and a statistics poll describe the same session when their origin names agree.',
  schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
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

function query(request: FastifyRequest): URLSearchParams {
  const i = request.url.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : request.url.slice(i + 1));
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
    if (originText !== null && !/^[A-Za-z0-9._:-]{1,128}$/.test(originText)) throw new ApiError('invalidParameter', 'Invalid request parameter: origin');
    const origin = originText ?? (request.socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
    const domainText = q.get('domain');
    const domain = domainText === null ? undefined : normalizeDomain(domainText);
    if (domainText !== null && domain === undefined) throw new ApiError('invalidParameter', 'Invalid request parameter: domain');
    const body = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '';
    let parsed: OriginEvent | EventRefusal;
    if (kind === 'nginx') {
      parsed = parseNginxNotify(new URLSearchParams(body), origin, domain);
    } else {
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        throw new ApiError('invalidParameter', 'Invalid request parameter: body (not valid JSON)');
      }
      parsed = parseSrsHook(json, origin, domain);
    }
    if (typeof parsed === 'string') {
      tracker.count(parsed);
      if (parsed === 'ignored_call') return { code: 0 };
      throw new ApiError('invalidParameter', `Invalid request parameter: ${kind === 'srs' && parsed === 'bad_call' ? 'action' : kind === 'srs' && parsed === 'bad_client' ? 'client_id' : refusalParam[parsed]}`);
    }
    try {
      await tracker.event(project, parsed);
    } catch (err) {
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
