import {
  apiNotFound, authFailed, bodiesBusy, ErrorCodes, internalError, invalidParameter, methodNotAllowed, payloadTooLarge, projectMismatch,
  requestTimeout, resourceNotFound, storeUnavailable, tooManyRequests, type ApiError, type ErrorKind,
} from '../../contract/errors.js';
import type { ParamSpec } from '../../contract/params.js';
import type { RouteSpec } from './types.js';

export interface OpenApiSettings {
  version: string;
  /** --max-body-bytes, quoted in the 413 example. */
  maxBodyBytes: number;
}

type Json = Record<string, unknown>;

/** One example answer per error kind, made by the same constructors the server answers with. */
function example(kind: ErrorKind, s: OpenApiSettings): ApiError {
  switch (kind) {
    case 'invalidParameter': return invalidParameter('<name>');
    case 'methodNotAllowed': return methodNotAllowed();
    case 'authFailed': return authFailed();
    case 'projectMismatch': return projectMismatch();
    case 'notFound': return resourceNotFound('carousel_task_id');
    case 'apiNotFound': return apiNotFound();
    case 'payloadTooLarge': return payloadTooLarge(s.maxBodyBytes);
    case 'internal': return internalError();
    case 'tooManyRequests': return tooManyRequests();
    case 'requestTimeout': return requestTimeout();
    case 'storeUnavailable': return storeUnavailable('disk_full');
    case 'busy': return bodiesBusy();
  }
}

const WHEN: Record<ErrorKind, string> = {
  invalidParameter: 'a parameter or the body is invalid; error_msg names it',
  methodNotAllowed: 'a known path called with another method',
  authFailed: 'authentication failed (no hint of which part was wrong)',
  projectMismatch: 'the credential (or X-Project-Id) belongs to another project than the path',
  notFound: 'the carousel task does not exist in the project',
  apiNotFound: 'unknown path',
  payloadTooLarge: 'the body (or the gunzipped body) is larger than --max-body-bytes',
  internal: 'internal error (details only in the server log, by request id)',
  tooManyRequests: 'more stats queries in flight than --max-concurrent-queries; retry after Retry-After seconds',
  requestTimeout: 'the request (headers or body) did not arrive within the server\'s timeouts',
  storeUnavailable: 'the store refuses writes (disk full, locked, unreachable); nothing of the request was counted; retry after Retry-After seconds',
  busy: 'the request bodies being received would pass --max-inflight-body-bytes; nothing was read; retry after Retry-After seconds',
};

const REQUEST_ID = { $ref: '#/components/headers/X-Request-Id' };

function errorResponse(kinds: readonly ErrorKind[], s: OpenApiSettings): Json {
  const codes = [...new Set(kinds.map((k) => ErrorCodes[k].code))];
  return {
    description: kinds.map((k) => `${ErrorCodes[k].code}: ${WHEN[k]}`).join('; '),
    headers: { 'X-Request-Id': REQUEST_ID },
    content: {
      'application/json': {
        schema: { allOf: [{ $ref: '#/components/schemas/Error' }, { properties: { error_code: { enum: codes } } }] },
        examples: Object.fromEntries(kinds.map((k) => [k, { summary: WHEN[k], value: example(k, s).body }])),
      },
    },
  };
}

function parameter(p: ParamSpec): Json {
  const list = p.kind === 'array' || p.kind === 'repeated';
  return {
    name: p.name, in: p.in, required: p.in === 'path' ? true : p.required === true,
    description: p.description,
    schema: p.schema,
    ...(list ? { style: 'form', explode: true } : {}),
  };
}

const SECURITY: Record<RouteSpec['security'], Json[]> = {
  credentials: [{ akSk: [] }, { token: [] }],
  metrics: [{}, { metricsBearer: [] }],
  none: [],
};

function operation(r: RouteSpec, s: OpenApiSettings): Json {
  const responses: Json = {};
  for (const [status, res] of Object.entries(r.responses)) responses[status] = { ...res, headers: { 'X-Request-Id': REQUEST_ID } };
  const byStatus = new Map<number, ErrorKind[]>();
  for (const kind of r.errors) byStatus.set(ErrorCodes[kind].status, [...(byStatus.get(ErrorCodes[kind].status) ?? []), kind]);
  for (const [status, kinds] of [...byStatus].sort((a, b) => a[0] - b[0])) responses[String(status)] = errorResponse(kinds, s);
  return {
    operationId: r.operationId, summary: r.summary, ...(r.description ? { description: r.description } : {}), tags: r.tags,
    parameters: r.parameters.map(parameter),
    ...(r.requestBody ? { requestBody: r.requestBody } : {}),
    responses,
    security: SECURITY[r.security],
  };
}

/** Fastify's /v2/:project_id/... as OpenAPI's /v2/{project_id}/... */
export const openApiPath = (url: string): string => url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');

/** The OpenAPI 3.1 document of the given routes (the declarations the server validates with). */
export function buildOpenApi(routes: readonly RouteSpec[], s: OpenApiSettings): Json {
  const paths: Record<string, Json> = {};
  for (const r of [...routes].sort((a, b) => a.url.localeCompare(b.url))) {
    const path = openApiPath(r.url);
    paths[path] = { ...paths[path], [r.method.toLowerCase()]: operation(r, s) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'livestats',
      version: s.version,
      summary: 'Self-hosted stream analytics speaking the Huawei Cloud Live stats API',
      description: 'Every answer carries X-Request-Id. Errors are `{"error_code", "error_msg"}`. Any path not listed answers ' +
        `404 ${ErrorCodes.apiNotFound.code}; a listed path called with another method answers 400 ${ErrorCodes.methodNotAllowed.code}. ` +
        'Generated from the route declarations the server validates requests with.',
      license: { name: 'UNLICENSED', identifier: 'LicenseRef-UNLICENSED' },
    },
    tags: [
      { name: 'stats', description: 'The Huawei Cloud Live stats API' },
      { name: 'ingest', description: 'Access logs and carousel telemetry in' },
      { name: 'operations', description: 'Health and Prometheus metrics' },
      { name: 'dashboard', description: 'The web dashboard' },
    ],
    paths,
    components: {
      schemas: {
        Error: {
          type: 'object', additionalProperties: false, required: ['error_code', 'error_msg'],
          properties: {
            error_code: { type: 'string', enum: [...new Set(Object.values(ErrorCodes).map((e) => e.code))] },
            error_msg: { type: 'string' },
          },
        },
      },
      responses: {
        ApiNotFound: errorResponse(['apiNotFound'], s),
        MethodNotAllowed: errorResponse(['methodNotAllowed'], s),
      },
      headers: {
        'X-Request-Id': { description: 'This request\'s id (also in the server log)', schema: { type: 'string', pattern: '^[0-9a-f]{32}$' } },
      },
      securitySchemes: {
        akSk: {
          type: 'apiKey', in: 'header', name: 'Authorization',
          description: 'AK/SK signing as the Huawei Cloud SDKs do it: `SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=..., Signature=...` ' +
            'with X-Sdk-Date (see docs/auth.md)',
        },
        token: { type: 'apiKey', in: 'header', name: 'X-Auth-Token', description: 'An API token (`livestats keys create`)' },
        metricsBearer: { type: 'http', scheme: 'bearer', description: 'The server\'s --metrics-token' },
      },
    },
  };
}
