import type { NameLimits } from '../ingest/name-limits.js';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { apiNotFound, internalError, invalidParameter, methodNotAllowed, REASON_HEADER, requestTimeout, shuttingDown, tooManyRequests } from '../contract/errors.js';
import { StoreHealth } from '../health/store-health.js';
import { BatchLedger } from '../ingest/batch-ids.js';
import type { Aggregator } from '../ingest/aggregator.js';
import { projectRoot } from '../paths.js';
import type { TrafficQuery } from '../store/traffic.js';
import type { Store } from '../store/types.js';
import { allowAll, type Authenticate } from './auth.js';
import { BodyBudget } from './body-gate.js';
import { ResponseCache } from './cache.js';
import { DEFAULT_HTTP_LIMITS, fastifyLimitOptions, MAX_PIPELINED_PER_CONNECTION, type HttpLimits } from './http-limits.js';
import type { AppContext, IngestSettings } from './context.js';
import { registerErrorHandling } from './errors.js';
import { wasAuthenticated } from './project.js';
import { admitQueries } from './query-admission.js';
import { QuerySlots } from './query-slots.js';
import { registerRequestGuard, type HostPolicy } from './request-guard.js';
import { CAROUSEL_PATH, carouselRoute } from './routes/carousel.js';
import { DASHBOARD_CONFIG_PATH, dashboardRoute, type DashboardOptions } from './routes/dashboard.js';
import { DASHBOARD_NAMES_PATH, dashboardNamesRoute } from './routes/dashboard-names.js';
import { healthRoute } from './routes/health.js';
import { INGEST_SAMPLES_PATH, ingestSamplesRoute } from './routes/ingest-samples.js';
import { HTTPCODES_PATH, httpCodesRoute } from './routes/httpcodes.js';
import { INGEST_ACCESS_LOGS_PATH, ingestAccessLogsRoute } from './routes/ingest-access-logs.js';
import { INGEST_ORIGIN_NGINX_PATH, INGEST_ORIGIN_SRS_PATH, ingestOriginRoutes } from './routes/ingest-origin.js';
import type { OriginTracker } from '../origin/tracker.js';
import type { Metrics } from '../metrics/registry.js';
import type { MetricsAccess } from './metrics/access.js';
import { registerRequestMetrics } from './metrics/hooks.js';
import { METRICS_PATH, metricsRoute } from './routes/metrics.js';
import { OPENAPI_PATH, openApiRoute } from './routes/openapi.js';
import { collectRoutes } from './spec/collect.js';
import { packageVersion } from './spec/version.js';
import { BANDWIDTH_DETAIL_PATH, TRAFFIC_DETAIL_PATH, trafficDetailRoutes } from './routes/traffic-detail.js';
import { BANDWIDTH_PEAK_PATH, TRAFFIC_SUMMARY_PATH, trafficPerDomainRoutes } from './routes/traffic-per-domain.js';
import { PLAY_INFO_PATH, PORTRAIT_PATH, USERS_PATH, audienceRoutes, type AudienceReads } from './routes/audience.js';
import { ORIGIN_PATHS, originRoutes } from './routes/origin.js';

export interface AppOptions {
  store: Store;
  aggregator?: Aggregator;
  /** Clock used for windows ("now"); tests pin it. */
  now?: () => number;
  authenticate?: Authenticate;
  logger?: FastifyBaseLogger | false;
  bodyLimit?: number;
  /** Request bodies held in memory at once, all requests together (default 256 MiB); see BodyBudget. */
  maxInflightBodyBytes?: number;
  /** Stats queries running at once before new ones get LIVE.100011007. */
  maxConcurrentQueries?: number;
  /** How long a stats query may wait for a free slot before LIVE.100011007 (default 0: refuse at once). */
  queryWaitMs?: number;
  /** HTTP log intake settings (retention, geo overrides, body limit). */
  ingest?: Partial<IngestSettings>;
  /** How long a stats answer may be served from memory (0: never); see ResponseCache. */
  queryCacheMs?: number;
  /** Served to the web dashboard at /dashboard/config.json (demo mode signs in by itself). */
  dashboard?: DashboardOptions;
  /** The built dashboard (default `<project>/web/dist`); when missing, `/` says how to build it. */
  dashboardDir?: string;
  /** Prometheus metrics: request timings and GET /metrics (absent: neither). */
  metrics?: { registry: Metrics; access: MetricsAccess };
  /** Timeouts and connection cap against slow or hostile clients (default DEFAULT_HTTP_LIMITS). */
  httpLimits?: Partial<HttpLimits>;
  /** Host header names answered (see HostPolicy; default: loopback names when listening on loopback, else any). */
  hosts?: HostPolicy;
  /** What the four traffic/bandwidth endpoints read (default: the store's traffic cube). */
  traffic?: TrafficQuery;
  /** The origin intake (src/origin/): with it, POST /ingest/v1/{project}/origin/nginx and /origin/srs take notifications. */
  origin?: OriginTracker;
  /** Days the traffic cube keeps (default 400); the traffic endpoints look back at most this far. */
  trafficRetentionDays?: number;
  /** The per-project name caps of the ingest routes (absent: none). */
  names?: NameLimits;
  /** What the three audience endpoints read (default: the store's audience cube). */
  audience?: AudienceReads;
  /** Days the audience cube keeps, domain-level and stream-level (default 400 each); the audience endpoints look back at most this far. */
  audienceRetentionDays?: { domain: number; stream: number };
}

/** Paths that exist: any other method on them is answered with LIVE.100011011. */
const KNOWN_GET_PATHS = [
  HTTPCODES_PATH, CAROUSEL_PATH, TRAFFIC_DETAIL_PATH, BANDWIDTH_DETAIL_PATH, TRAFFIC_SUMMARY_PATH, BANDWIDTH_PEAK_PATH, ...ORIGIN_PATHS,
  USERS_PATH, PLAY_INFO_PATH, PORTRAIT_PATH,
  '/healthz', '/', DASHBOARD_CONFIG_PATH, OPENAPI_PATH, DASHBOARD_NAMES_PATH,
];
const OTHER_METHODS = ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;
/** POST-only paths: any other method on them is answered with LIVE.100011011. */
const KNOWN_POST_PATHS = [INGEST_SAMPLES_PATH, INGEST_ACCESS_LOGS_PATH, INGEST_ORIGIN_NGINX_PATH, INGEST_ORIGIN_SRS_PATH];
const NOT_POST_METHODS = ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** The one info line a request leaves in the log, written when its answer has been sent. */
function logRequest(request: FastifyRequest, reply: FastifyReply): void {
  request.log.info({
    req: { method: request.method, url: request.url, remoteAddress: request.ip },
    res: { statusCode: reply.statusCode }, responseTime: Math.round(reply.elapsedTime * 10) / 10,
  }, 'request completed');
}

export function buildApp(options: AppOptions): FastifyInstance {
  const bodyLimit = options.bodyLimit ?? 64 * 1024 * 1024;
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...options.httpLimits };
  const common = {
    ...fastifyLimitOptions(limits),
    genReqId: () => randomUUID().replace(/-/g, ''),
    // One log line per request (in the onResponse hook below), not Fastify's two ("incoming request", "request completed").
    logController: new LogController({ disableRequestLogging: true }),
    // While the server stops, a request on a connection still open gets the contract's envelope (below), not Fastify's own 503 body.
    return503OnClosing: false,
    bodyLimit,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // A URL Fastify cannot even decode (e.g. `/v2/%zz/...`) matches no API: answer like any
    // unknown path, in the contract's envelope and with a request id, instead of Fastify's own body.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      // A path parameter longer than any API takes (maxParamLength) is a bad parameter, not a fault.
      const e = error.code === 'FST_ERR_BAD_URL' ? apiNotFound() : error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? invalidParameter('path', 'a path segment is longer than 200 characters') : internalError();
      if (e.status >= 500) request.log.error({ err: error }, 'request failed before routing');
      if (e.reason !== undefined) void reply.header(REASON_HEADER, e.reason);
      void reply.code(e.status).header('X-Request-Id', request.id).type('application/json').send(e.body);
    },
    // Requests Node's HTTP parser rejects (oversized headers, garbage) never become requests;
    // they still get the envelope and a request id.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (!socket.writable) return;
      const oversized = err.code === 'HPE_HEADER_OVERFLOW';
      const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
      const body = JSON.stringify((timedOut ? requestTimeout() : invalidParameter(oversized ? 'headers' : 'request')).body);
      const status = timedOut ? '408 Request Timeout' : oversized ? '431 Request Header Fields Too Large' : '400 Bad Request';
      const reason = timedOut ? '' : `${REASON_HEADER}: ${oversized ? 'the request headers are larger than the server accepts' : 'not a valid HTTP/1.1 request'}\r\n`;
      socket.end(
        `HTTP/1.1 ${status}\r\n${reason}` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `X-Request-Id: ${randomUUID().replace(/-/g, '')}\r\nConnection: close\r\n\r\n${body}`,
      );
    },
  };
  const app: FastifyInstance = options.logger
    ? Fastify({ ...common, loggerInstance: options.logger })
    : Fastify({ ...common, logger: false });
  app.server.maxConnections = limits.maxConnections;
  const ctx: AppContext = {
    store: options.store,
    aggregator: options.aggregator,
    now: options.now ?? Date.now,
    authenticate: options.authenticate ?? allowAll,
    ingest: {
      retentionDays: options.ingest?.retentionDays ?? 8,
      geoOverridesFile: options.ingest?.geoOverridesFile,
      maxBodyBytes: options.ingest?.maxBodyBytes ?? bodyLimit,
      commitTimeoutMs: commitTimeout(options.ingest?.commitTimeoutMs ?? DEFAULT_COMMIT_TIMEOUT_MS, limits.bodyTimeoutMs),
    },
    cache: new ResponseCache(options.queryCacheMs ?? 0),
    health: options.aggregator?.health ?? new StoreHealth(),
    slots: new QuerySlots({ limit: options.maxConcurrentQueries ?? 64, waitMs: options.queryWaitMs ?? 0 }),
    batches: new BatchLedger(options.store, options.aggregator),
    bodies: new BodyBudget(options.maxInflightBodyBytes ?? 256 * 1024 * 1024),
    metrics: options.metrics?.registry,
    trafficStoredMs: (options.trafficRetentionDays ?? 400) * 24 * 3_600_000,
    ...(options.names ? { names: options.names } : {}),
  };
  options.aggregator?.onWritten((projects) => ctx.cache.invalidate(projects));
  // Before any route: GET /openapi.json is generated from what the routes declare.
  const routes = collectRoutes(app);

  // Request hooks are callback-style (no promise per hook per request); they only run synchronous code.
  let stopping = false;
  app.addHook('preClose', (done) => {
    stopping = true;
    app.log.info('shutdown: HTTP stops: no new connections, new requests on open ones get 503');
    done();
  });
  app.addHook('onRequest', (request, reply, done) => {
    if (!stopping) {
      done();
      return;
    }
    void reply.header('X-Request-Id', request.id).header('Connection', 'close');
    done(shuttingDown());
  });
  const pipelined = new WeakMap<object, number>();
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('X-Request-Id', request.id);
    const socket = request.raw.socket;
    const n = (pipelined.get(socket) ?? 0) + 1;
    pipelined.set(socket, n);
    (request as { pipelinedOn?: object }).pipelinedOn = socket;
    if (n > MAX_PIPELINED_PER_CONNECTION) {
      void reply.header('Connection', 'close');
      done(tooManyRequests());
      return;
    }
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const socket = (request as { pipelinedOn?: object }).pipelinedOn;
    if (socket) pipelined.set(socket, (pipelined.get(socket) ?? 1) - 1);
    logRequest(request, reply);
    done();
  });

  // --body-timeout-ms bounds the silences while a request arrives and while its answer is sent, not
  // the work in between: once the body is in, a handler that takes longer (a 32 MiB log body parsed
  // on a busy machine) must not have its connection closed under it, unanswered. The store waits
  // inside have their own deadline (--ingest-commit-timeout-ms); the limit is back for the answer.
  // (app.inject's requests have a socket without timers: nothing to lift there.)
  const idleLimit = (request: FastifyRequest, ms: number): void => {
    const socket = request.raw.socket as { setTimeout?: unknown } | undefined;
    if (typeof socket?.setTimeout === 'function') request.raw.socket.setTimeout(ms);
  };
  app.addHook('preHandler', (request, _reply, done) => {
    idleLimit(request, 0);
    done();
  });
  app.addHook('onSend', (request, _reply, payload, done) => {
    idleLimit(request, limits.bodyTimeoutMs);
    done(null, payload);
  });

  const knownPaths = [...KNOWN_GET_PATHS, ...KNOWN_POST_PATHS, ...(options.metrics ? [METRICS_PATH] : [])];
  const unrouted = registerRequestGuard(app, options.hosts ?? { allowed: [] }, knownPaths);

  admitQueries(app, ctx.slots);

  // Safety net for tenant isolation: a successful /v2 or /ingest answer from a route that
  // never called projectOf (so never authenticated) is replaced by a 500 and logged.
  app.addHook('onSend', (request, reply, payload, done) => {
    const url = request.url;
    if (reply.statusCode >= 400 || !(url.startsWith('/v2/') || url.startsWith('/v1/') || url.startsWith('/ingest/')) || wasAuthenticated(request)) {
      done(null, payload);
      return;
    }
    request.log.error({ route: request.routeOptions.url }, 'route answered without authenticating; answer withheld');
    void reply.code(500).type('application/json');
    done(null, JSON.stringify(internalError().body));
  });

  // Every request body reaches handlers as the raw bytes received (a Buffer): AK/SK
  // verification hashes exactly those bytes, and each ingest route decodes (gunzip,
  // JSON, log lines) after authentication.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  if (options.metrics) {
    registerRequestMetrics(app, options.metrics.registry.api);
    metricsRoute(app, options.metrics.registry, options.metrics.access);
  }
  registerErrorHandling(app, bodyLimit, unrouted);
  healthRoute(app, ctx);
  httpCodesRoute(app, ctx);
  carouselRoute(app, ctx);
  const traffic = options.traffic ?? options.store;
  trafficDetailRoutes(app, ctx, traffic);
  trafficPerDomainRoutes(app, ctx, traffic);
  const audienceDays = options.audienceRetentionDays ?? { domain: 400, stream: 400 };
  audienceRoutes(app, ctx, options.audience ?? options.store, { domainMs: audienceDays.domain * 86_400_000, streamMs: audienceDays.stream * 86_400_000 });
  originRoutes(app, ctx);
  ingestAccessLogsRoute(app, ctx);
  ingestOriginRoutes(app, ctx, options.origin);
  const dashboardDir = options.dashboardDir ?? join(projectRoot(), 'web', 'dist');
  if (!dashboardRoute(app, dashboardDir, options.dashboard).built) {
    app.log.warn(`dashboard not built: ${join(dashboardDir, 'index.html')} is missing; run \`npm run build\` (the API still works)`);
  }
  ingestSamplesRoute(app, ctx);
  dashboardNamesRoute(app, ctx);
  openApiRoute(app, routes, { version: packageVersion(), maxBodyBytes: ctx.ingest.maxBodyBytes });
  const wrongMethods = [
    ...[...KNOWN_GET_PATHS, ...(options.metrics ? [METRICS_PATH] : [])].map((url) => ({ url, methods: [...OTHER_METHODS] })),
    ...KNOWN_POST_PATHS.map((url) => ({ url, methods: [...NOT_POST_METHODS] })),
  ];
  for (const { url, methods } of wrongMethods) {
    app.route({
      method: methods,
      url,
      config: { openapi: false },
      onRequest: async () => {
        throw methodNotAllowed();
      },
      handler: async () => {
        throw methodNotAllowed();
      },
    });
  }
  return app;
}

/** Default of --ingest-commit-timeout-ms. */
export const DEFAULT_COMMIT_TIMEOUT_MS = 20_000;

/** The ingest commit timeout in effect: at most 3/4 of the body timeout (the idle connection's end). */
export const commitTimeout = (setting: number, bodyTimeoutMs: number): number =>
  Math.max(1, Math.min(setting, Math.floor((bodyTimeoutMs * 3) / 4)));
