import { Transform } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bodiesBusy, payloadTooLarge } from '../contract/errors.js';
import type { AppContext } from './context.js';
import { projectBeforeBody } from './project.js';

/**
 * The bytes of request bodies held in memory at once, all requests together
 * (--max-inflight-body-bytes). A body is counted from the moment it is admitted (its whole
 * Content-Length at once; a chunked body chunk by chunk) until its answer has gone.
 */
export class BodyBudget {
  private used = 0;
  constructor(readonly limit: number) {}

  get inFlight(): number {
    return this.used;
  }

  /** Takes n bytes of the budget; false (and nothing taken) when they do not fit. */
  take(n: number): boolean {
    if (n > this.limit - this.used) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}

function declaredLength(request: FastifyRequest): number | undefined {
  const v = request.headers['content-length'];
  if (typeof v !== 'string' || !/^\d{1,15}$/.test(v.trim())) return undefined;
  return Number(v.trim());
}

/**
 * The preParsing hook of every route that takes a body. Before a byte of the body is read:
 * the path's project and the credentials are checked from the headers (a request without valid
 * credentials gets its 401 at once, and its body is discarded as it arrives, never held), the
 * declared length is checked against the route's limit (413), and the body must fit in the
 * in-flight budget (503 LIVE.100011007 with Retry-After). A chunked body is checked the same way
 * as it arrives. The handler authenticates again with the body (an AK/SK signature covers it).
 */
export function gateBody(ctx: AppContext, limit: number) {
  return async (request: FastifyRequest, reply: FastifyReply, payload: NodeJS.ReadableStream): Promise<NodeJS.ReadableStream> => {
    await projectBeforeBody(ctx, request);
    const budget = ctx.bodies;
    const length = declaredLength(request);
    if (length !== undefined && length > Math.min(limit, budget.limit)) throw payloadTooLarge(Math.min(limit, budget.limit));
    let held = 0;
    if (length !== undefined) {
      if (!budget.take(length)) throw bodiesBusy();
      held = length;
    }
    reply.raw.once('close', () => {
      budget.give(held);
      held = 0;
    });
    if (length !== undefined) return payload;
    let received = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        if (received > limit) return callback(payloadTooLarge(limit));
        if (!budget.take(chunk.length)) return callback(bodiesBusy());
        held += chunk.length;
        callback(null, chunk);
      },
    });
    payload.on('error', (err: Error) => counted.destroy(err));
    payload.pipe(counted);
    return counted;
  };
}
