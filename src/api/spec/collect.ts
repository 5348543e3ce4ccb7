import type { FastifyInstance } from 'fastify';
import type { RouteSpec } from './types.js';

export interface RouteRecord {
  method: string;
  url: string;
  spec: RouteSpec | false | undefined;
}

/**
 * Records every route as it is registered (call before registering any), with the spec it
 * declared in `config.openapi`. GET /openapi.json is built from these records.
 */
const recorded = new WeakMap<FastifyInstance, RouteRecord[]>();

/** The routes recorded for an app (tests check that every route declared itself). */
export const routesOf = (app: FastifyInstance): readonly RouteRecord[] => recorded.get(app) ?? [];

export function collectRoutes(app: FastifyInstance): RouteRecord[] {
  const routes: RouteRecord[] = [];
  recorded.set(app, routes);
  app.addHook('onRoute', (r) => {
    for (const method of Array.isArray(r.method) ? r.method : [r.method]) {
      routes.push({ method: String(method), url: r.url ?? r.path, spec: r.config?.openapi });
    }
  });
  return routes;
}

/** The declared specs, once each (a route and its HEAD twin share one). */
export const specsOf = (routes: readonly RouteRecord[]): RouteSpec[] =>
  [...new Set(routes.map((r) => r.spec).filter((s): s is RouteSpec => s !== undefined && s !== false))];
