import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RouteSpec } from '../spec/types.js';

/** What the dashboard learns from `GET /dashboard/config.json` (demo mode signs in by itself). */
export interface DashboardOptions {
  demo: boolean;
  project?: string;
  token?: string;
}

export const DASHBOARD_CONFIG_PATH = '/dashboard/config.json';

export const DASHBOARD_SPEC: RouteSpec = {
  method: 'GET', url: '/', operationId: 'Dashboard', tags: ['dashboard'], security: 'none',
  summary: 'The web dashboard',
  description: 'The page that loads the dashboard (its scripts and styles are the built files under /assets/, not listed here). ' +
    'It uses only the stats API, with the credentials entered in it.',
  parameters: [],
  responses: {
    200: { description: 'The dashboard page', content: { 'text/html; charset=utf-8': { schema: { type: 'string' } } } },
    503: { description: 'The dashboard is not built (`npm run build`); the API works', content: { 'text/plain; charset=utf-8': { schema: { type: 'string' } } } },
  },
  errors: [],
};

export const DASHBOARD_CONFIG_SPEC: RouteSpec = {
  method: 'GET', url: DASHBOARD_CONFIG_PATH, operationId: 'DashboardConfig', tags: ['dashboard'], security: 'none',
  summary: 'How the dashboard signs in',
  description: 'In demo mode the dashboard signs in by itself with the demo session token it gets here.',
  parameters: [],
  responses: {
    200: {
      description: 'The dashboard settings',
      content: {
        'application/json; charset=utf-8': {
          schema: {
            type: 'object', additionalProperties: false, required: ['demo'],
            properties: { demo: { type: 'boolean' }, project_id: { type: 'string' }, token: { type: ['string', 'null'] } },
          },
        },
      },
    },
  },
  errors: [],
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.svg', '.map']);

/** Only this server's own scripts and API; ECharts sets inline styles on its tooltips. */
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export const NOT_BUILT_MESSAGE =
  'The livestats dashboard is not built (web/dist/index.html is missing).\n' +
  'Run `npm run build` and restart the server. The API itself is available under /v2/.\n';

interface Asset {
  type: string;
  body: Buffer;
  compressible: boolean;
  /** Compressed on first use, then kept. */
  gzip?: Buffer;
  immutable: boolean;
}

/** Every file under `dir`, keyed by its URL path ("/assets/x.js"); nothing else can ever be served. */
export function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const file = join(d, name);
      if (statSync(file).isDirectory()) {
        walk(file);
        continue;
      }
      const url = '/' + relative(dir, file).split(sep).join('/');
      const ext = extname(name).toLowerCase();
      const body = readFileSync(file);
      assets.set(url, {
        type: TYPES[ext] ?? 'application/octet-stream',
        body,
        compressible: COMPRESSIBLE.has(ext) && body.length > 1024,
        immutable: url.startsWith('/assets/'),
      });
    }
  };
  walk(dir);
  return assets;
}

function send(request: FastifyRequest, reply: FastifyReply, asset: Asset): Buffer {
  void reply.type(asset.type).header('Cache-Control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  void reply.header('Vary', 'Accept-Encoding').header('X-Content-Type-Options', 'nosniff');
  if (asset.type.startsWith('text/html')) void reply.header('Content-Security-Policy', CSP);
  const accepts = String(request.headers['accept-encoding'] ?? '');
  if (asset.compressible && /\bgzip\b/.test(accepts)) {
    void reply.header('Content-Encoding', 'gzip');
    asset.gzip ??= gzipSync(asset.body);
    return asset.gzip;
  }
  return asset.body;
}

/**
 * The web dashboard: `/` (index.html), the files Vite built into `distDir`, each as an exact
 * route (so no wildcard shadows the API or the APIGW.0101 404), and `/dashboard/config.json`.
 * A missing bundle is not fatal: `/` explains how to build it and the API keeps working.
 */
export function dashboardRoute(
  app: FastifyInstance, distDir: string, options: DashboardOptions | undefined,
): { built: boolean } {
  const config = options?.demo
    ? { demo: true, project_id: options.project ?? 'demo', token: options.token ?? null }
    : { demo: false };
  app.get(DASHBOARD_CONFIG_PATH, { config: { openapi: DASHBOARD_CONFIG_SPEC } }, async (_request, reply) => {
    void reply.header('Cache-Control', 'no-store');
    return config;
  });

  const built = existsSync(join(distDir, 'index.html'));
  if (!built) {
    app.get('/', { config: { openapi: DASHBOARD_SPEC } }, async (_request, reply) => {
      void reply.code(503).type('text/plain; charset=utf-8').header('Cache-Control', 'no-store');
      return NOT_BUILT_MESSAGE;
    });
    return { built };
  }
  const assets = loadAssets(distDir);
  for (const [url, asset] of assets) {
    if (url === '/index.html' || url === DASHBOARD_CONFIG_PATH) continue;
    app.get(url, { config: { openapi: false } }, async (request, reply) => send(request, reply, asset));
  }
  const index = assets.get('/index.html');
  if (index) app.get('/', { config: { openapi: DASHBOARD_SPEC } }, async (request, reply) => send(request, reply, index));
  return { built };
}
