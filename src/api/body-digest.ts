import type { FastifyRequest } from 'fastify';

/**
 * The SHA-256 (hex) of a request body, computed as the body arrived (src/api/body-gate.ts), so
 * checking an AK/SK signature never hashes a large body in one step on the event loop.
 */
const digests = new WeakMap<FastifyRequest, string>();

export const setBodyDigest = (request: FastifyRequest, hex: string): void => void digests.set(request, hex);
export const bodyDigestOf = (request: FastifyRequest): string | undefined => digests.get(request);
