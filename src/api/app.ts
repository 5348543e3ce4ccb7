import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { internalError, methodNotAllowed, tooManyRequests } from '../contract/errors.js';
import type { Aggregator } from '../ingest/aggregator.js';
import type { Store } from '../store/types.js';
import { allowAll, type Authenticate } from './auth.js';
import { ResponseCache } from './cache.js';
import type { AppContext } from './context.js';
import { registerErrorHandling } from './errors.js';
import { wasAuthenticated } from './project.js';
import { CAROUSEL_PATH, carouselRoute } from './routes/carousel.js';
import { healthRoute } from './routes/health.js';
import { HTTPCODES_PATH, httpCodesRoute } from './routes/httpcodes.js';

export interface AppOptions {
  store: Store;
  aggregator?: Aggregator;
  /** Clock used for windows ("now"); tests pin it. */
  now?: () => number;
  authenticate?: Authenticate;
  logger?: FastifyBaseLogger | false;
  bodyLimit?: number;
  /** Stats queries running at once before new ones get LIVE.100011007. */
  maxConcurrentQueries?: number;
  /** How long a stats answer may be served from memory (0: never); see ResponseCache. */
  queryCacheMs?: number;
}

/** Paths that exist: any other method on them is answered with LIVE.100011011. */
const KNOWN_GET_PATHS = [HTTPCODES_PATH, CAROUSEL_PATH, '/healthz'];
const OTHER_METHODS = ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

export function buildApp(options: AppOptions): FastifyInstance {
  const bodyLimit = options.bodyLimit ?? 64 * 1024 * 1024;
  const common = {
    genReqId: () => randomUUID().replace(/-/g, ''),
    bodyLimit,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  };
  const app: FastifyInstance = options.logger
    ? Fastify({ ...common, loggerInstance: options.logger })
    : Fastify({ ...common, logger: false });
  const ctx: AppContext = {
    store: options.store,
    aggregator: options.aggregator,
    now: options.now ?? Date.now,
    authenticate: options.authenticate ?? allowAll,
    cache: new ResponseCache(options.queryCacheMs ?? 0),
  };
  options.aggregator?.onWritten((projects) => ctx.cache.invalidate(projects));

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('X-Request-Id', request.id);
  });

  const limit = options.maxConcurrentQueries ?? 64;
  let inFlight = 0;
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/v2/')) return;
    if (inFlight >= limit) throw tooManyRequests();
    inFlight++;
    (request as { counted?: boolean }).counted = true;
  });
  app.addHook('onResponse', async (request) => {
    if ((request as { counted?: boolean }).counted) inFlight--;
  });

  // Safety net for tenant isolation: a successful /v2 or /ingest answer from a route that
  // never called projectOf (so never authenticated) is replaced by a 500 and logged.
  app.addHook('onSend', async (request, reply, payload) => {
    const url = request.url;
    if (reply.statusCode >= 400 || !(url.startsWith('/v2/') || url.startsWith('/ingest/')) || wasAuthenticated(request)) return payload;
    request.log.error({ route: request.routeOptions.url }, 'route answered without authenticating; answer withheld');
    void reply.code(500).type('application/json');
    return JSON.stringify(internalError().body);
  });

  // Every request body reaches handlers as the raw bytes received (a Buffer): AK/SK
  // verification hashes exactly those bytes, and each ingest route decodes (gunzip,
  // JSON, log lines) after authentication.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  registerErrorHandling(app, bodyLimit);
  healthRoute(app, ctx);
  httpCodesRoute(app, ctx);
  carouselRoute(app, ctx);
  for (const url of KNOWN_GET_PATHS) {
    app.route({
      method: [...OTHER_METHODS],
      url,
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
