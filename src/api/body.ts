import type { FastifyReply } from 'fastify';
import type { AppContext } from './context.js';

/**
 * A Buffer over a store-rendered body's bytes (no copy: the bytes were transferred from a read
 * worker). When the answer is not kept by the response cache, its memory goes back to the store
 * once the response has been handed to the socket whole ('finish'; not when the client left early).
 */
export function storeBody(
  ctx: AppContext, reply: FastifyReply, bytes: Uint8Array,
  /** What rendered the bytes and takes them back (default the store; the audience routes pass their reads). */
  store: { releaseBody?: (bytes: Uint8Array) => void } = ctx.store,
): Buffer {
  const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (store.releaseBody && !ctx.cache.enabled) reply.raw.once('finish', () => store.releaseBody?.(bytes));
  return body;
}
