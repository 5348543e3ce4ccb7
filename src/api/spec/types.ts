import type { ErrorKind } from '../../contract/errors.js';
import type { ParamSpec } from '../../contract/params.js';
import type { JsonSchema } from '../../contract/schema.js';

export interface MediaSpec {
  schema: JsonSchema;
}

export interface ResponseSpec {
  description: string;
  content?: Record<string, MediaSpec>;
}

/**
 * What a route declares about itself, once: the server reads and checks its parameters and
 * bodies from these declarations, and GET /openapi.json is generated from them.
 */
export interface RouteSpec {
  method: 'GET' | 'POST';
  /** Fastify's pattern, e.g. /v2/:project_id/stats/httpcodes. */
  url: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: readonly string[];
  /** credentials: AK/SK or token of the path's project; metrics: see MetricsAccess; none: open. */
  security: 'credentials' | 'metrics' | 'none';
  parameters: readonly ParamSpec[];
  requestBody?: { required: boolean; description: string; content: Record<string, MediaSpec> };
  /** Successful (and other non-envelope) answers by status. */
  responses: Record<string, ResponseSpec>;
  /** Error envelopes this route can answer (their status and code come from the error registry). */
  errors: readonly ErrorKind[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's declaration (see RouteSpec); false: deliberately not an API operation. */
    openapi?: RouteSpec | false;
  }
}
