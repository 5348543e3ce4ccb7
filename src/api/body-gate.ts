import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bodiesBusy, payloadTooLarge } from '../contract/errors.js';
import { setBodyDigest } from './body-digest.js';
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
 * as it arrives. The body's SHA-256 is computed as it arrives (for the AK/SK check, which the
 * handler runs again with the body). A request signed with an unknown AK cannot succeed: its body
 * is read and hashed like any other (so its answer takes as long as a wrong signature's) but not
 * kept, and it takes nothing of the budget.
 */
export function gateBody(ctx: AppContext, limit: number) {
  return async (request: FastifyRequest, reply: FastifyReply, payload: NodeJS.ReadableStream): Promise<NodeJS.ReadableStream> => {
    const discard = (await projectBeforeBody(ctx, request)) === 'discard';
    const budget = ctx.bodies;
    const max = Math.min(limit, budget.limit);
    const length = declaredLength(request);
    if (length !== undefined && length > max) throw payloadTooLarge(max);
    let held = 0;
    if (length !== undefined && !discard) {
      if (!budget.take(length)) throw bodiesBusy();
      held = length;
    }
    reply.raw.once('close', () => {
      budget.give(held);
      held = 0;
    });
    const hash = createHash('sha256');
    let received = 0;
    const gated = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        if (received > max) return callback(payloadTooLarge(max));
        if (length === undefined && !discard) {
          if (!budget.take(chunk.length)) return callback(bodiesBusy());
          held += chunk.length;
        }
        hash.update(chunk);
        gated.receivedEncodedLength = received;
        callback(null, discard ? undefined : chunk);
      },
      flush(callback) {
        setBodyDigest(request, hash.digest('hex'));
        callback();
      },
    }) as Transform & { receivedEncodedLength: number };
    gated.receivedEncodedLength = 0;
    payload.on('error', (err: Error) => gated.destroy(err));
    payload.pipe(gated);
    return gated;
  };
}
