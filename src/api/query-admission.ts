import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { QuerySlots, Slot } from './query-slots.js';

/** The abort reason of a query whose client closed the connection before its answer was complete. */
export class ClientGone extends Error {
  constructor() {
    super('client closed the connection before the answer');
    this.name = 'ClientGone';
  }
}

const signals = new WeakMap<FastifyRequest, AbortSignal>();

/** The signal that aborts when this query's client has gone (undefined for requests that are not queries). */
export const querySignal = (request: FastifyRequest): AbortSignal | undefined => signals.get(request);

/** Whether this query's client has gone (its work was cancelled; nobody reads the answer). */
export const clientGone = (request: FastifyRequest): boolean => signals.get(request)?.aborted === true;

/**
 * Every `/v2/` request takes a query slot before anything else runs and gives it back when its
 * response closes. Node emits 'close' exactly once per response, whatever ended it: the answer
 * (success or error) fully handed to the socket, the client hanging up, a socket timeout, or the
 * server destroying the connection. So the slot is released exactly once, even for requests whose
 * `onResponse` never fires. A response that closes unfinished aborts the request's signal,
 * which cancels a wait for a slot and the store work (see query-slots.ts).
 */
export function admitQueries(app: FastifyInstance, slots: QuerySlots): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (!request.url.startsWith('/v2/') && !request.url.startsWith('/v1/')) {
      done();
      return;
    }
    const controller = new AbortController();
    signals.set(request, controller.signal);
    let slot: Slot | undefined;
    let closed = false;
    reply.raw.once('close', () => {
      closed = true;
      if (!reply.raw.writableFinished) controller.abort(new ClientGone());
      slot?.release();
    });
    const take = (granted: Slot): void => {
      if (closed) granted.release();
      else slot = granted;
    };
    // A free slot is taken at once (no promise); otherwise the request waits for one or is refused.
    const free = slots.tryAcquire();
    if (free) {
      take(free);
      done();
      return;
    }
    slots.acquire(controller.signal).then((granted) => {
      take(granted);
      done();
    }, (err: Error) => done(err));
  });
}
