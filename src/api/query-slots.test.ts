import { describe, expect, it } from 'vitest';
import { ApiError } from '../contract/errors.js';
import { QuerySlots } from './query-slots.js';

const live = (): AbortSignal => new AbortController().signal;
const refusal = { error_code: 'LIVE.100011007', error_msg: 'Too many concurrent requests, retry later' };

describe('QuerySlots', () => {
  it('hands out up to the limit and refuses at once without a wait', async () => {
    const slots = new QuerySlots({ limit: 2, waitMs: 0 });
    const a = await slots.acquire(live());
    await slots.acquire(live());
    expect(slots.inFlight).toBe(2);
    const err = await slots.acquire(live()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).body).toEqual(refusal);
    a.release();
    expect(slots.inFlight).toBe(1);
  });

  it('tryAcquire takes a free slot at once and never one a waiter is owed', async () => {
    const slots = new QuerySlots({ limit: 1, waitMs: 10_000 });
    const a = slots.tryAcquire();
    expect(a).toBeDefined();
    expect(slots.tryAcquire()).toBeUndefined();
    const waiting = slots.acquire(live());
    a?.release();
    // The freed slot went straight to the waiter: nothing is free for tryAcquire.
    expect(slots.tryAcquire()).toBeUndefined();
    (await waiting).release();
    expect(slots.inFlight).toBe(0);
    expect(slots.tryAcquire()).toBeDefined();
  });

  it('releases a slot exactly once however often release is called', async () => {
    const slots = new QuerySlots({ limit: 2, waitMs: 0 });
    const a = await slots.acquire(live());
    await slots.acquire(live());
    a.release();
    a.release();
    a.release();
    expect(slots.inFlight).toBe(1);
  });

  it('gives a freed slot to the oldest waiter, keeping the count', async () => {
    const slots = new QuerySlots({ limit: 1, waitMs: 60_000 });
    const a = await slots.acquire(live());
    const order: string[] = [];
    const b = slots.acquire(live()).then((s) => (order.push('b'), s));
    const c = slots.acquire(live()).then((s) => (order.push('c'), s));
    expect(slots.waiting).toBe(1); // maxWaiting defaults to the limit: c was refused
    await expect(c).rejects.toBeInstanceOf(ApiError);
    a.release();
    const sb = await b;
    expect(order).toEqual(['b']);
    expect(slots.inFlight).toBe(1);
    expect(slots.waiting).toBe(0);
    sb.release();
    expect(slots.inFlight).toBe(0);
  });

  it('an aborted waiter leaves the queue at once and never takes a slot', async () => {
    const slots = new QuerySlots({ limit: 1, waitMs: 60_000, maxWaiting: 2 });
    const a = await slots.acquire(live());
    const gone = new AbortController();
    const waiting = slots.acquire(gone.signal);
    const next = slots.acquire(live());
    expect(slots.waiting).toBe(2);
    gone.abort(new Error('client gone'));
    await expect(waiting).rejects.toThrow('client gone');
    expect(slots.waiting).toBe(1);
    a.release();
    const sn = await next; // the freed slot went to the live waiter
    expect(slots.inFlight).toBe(1);
    sn.release();
    expect(slots.inFlight).toBe(0);
  });

  it('refuses an already aborted signal without counting it', async () => {
    const slots = new QuerySlots({ limit: 1, waitMs: 0 });
    const c = new AbortController();
    c.abort(new Error('gone'));
    await expect(slots.acquire(c.signal)).rejects.toThrow('gone');
    expect(slots.inFlight).toBe(0);
  });

  it('a waiter whose wait runs out gets LIVE.100011007 and leaves the queue', async () => {
    const slots = new QuerySlots({ limit: 1, waitMs: 1 });
    const a = await slots.acquire(live());
    const err = await slots.acquire(live()).catch((e: unknown) => e);
    expect((err as ApiError).body).toEqual(refusal);
    expect(slots.waiting).toBe(0);
    a.release();
    expect(slots.inFlight).toBe(0);
  });
});
