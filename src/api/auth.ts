import type { FastifyRequest } from 'fastify';

/**
 * The single point where authentication plugs in. It runs before every /v2 and /ingest
 * handler with the path's project id and throws an ApiError (401) to refuse the request.
 * The server builds it from the credentials file (`auth/hook.ts`, `auth/setup.ts`); `allowAll`
 * is for tests of other features that pass it explicitly.
 *
 * `beforeBody`, when present, runs on routes that take a body before a byte of it is read
 * (headers only) and refuses what can be refused from them; the full check still runs after.
 * It answers 'discard' when the request cannot succeed whatever its body (an unknown AK): the
 * body is then read and hashed like any other but not kept, and the full check refuses it.
 */
export interface Authenticate {
  (request: FastifyRequest, projectId: string): Promise<void>;
  beforeBody?: (request: FastifyRequest, projectId: string) => Promise<'discard' | undefined>;
}

export const allowAll: Authenticate = async () => {};
