import type { FastifyInstance } from 'fastify';
import type { RouteRecord } from '../spec/collect.js';
import { specsOf } from '../spec/collect.js';
import { buildOpenApi, type OpenApiSettings } from '../spec/openapi.js';
import type { RouteSpec } from '../spec/types.js';

export const OPENAPI_PATH = '/openapi.json';

export const OPENAPI_SPEC: RouteSpec = {
  method: 'GET', url: OPENAPI_PATH, operationId: 'OpenApi', tags: ['operations'], security: 'none',
  summary: 'This document (OpenAPI 3.1)',
  parameters: [],
  responses: { 200: { description: 'The OpenAPI document', content: { 'application/json; charset=utf-8': { schema: { type: 'object' } } } } },
  errors: [],
};

/** GET /openapi.json: built on first use from the routes registered (so after every route exists). */
export function openApiRoute(app: FastifyInstance, routes: readonly RouteRecord[], settings: OpenApiSettings): void {
  let text: string | undefined;
  app.get(OPENAPI_PATH, { config: { openapi: OPENAPI_SPEC } }, async (_request, reply) => {
    text ??= JSON.stringify(buildOpenApi(specsOf(routes), settings));
    return reply.type('application/json; charset=utf-8').header('Cache-Control', 'no-cache').send(text);
  });
}
