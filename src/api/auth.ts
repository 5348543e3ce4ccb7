import type { FastifyRequest } from 'fastify';

/**
 * The single point where authentication plugs in. It runs before every /v2 and /ingest
 * handler with the path's project id and throws an ApiError (401) to refuse the request.
 * Until credentials exist, `allowAll` is used and the server binds to loopback by default.
 */
export type Authenticate = (request: FastifyRequest, projectId: string) => Promise<void>;

export const allowAll: Authenticate = async () => {};
