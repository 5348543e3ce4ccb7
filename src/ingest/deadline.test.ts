import { expect, it } from 'vitest';
import { commitTimeout } from '../api/app.js';
import { classifyStoreError, StoreStalledError } from '../health/store-faults.js';
import { beforeDeadline } from './deadline.js';

it('gives the outcome when it comes first, a StoreStalledError (store_unreachable) once the deadline passes', async () => {
  const controller = new AbortController();
  const deadline = { signal: controller.signal, ms: 1234 };
  await expect(beforeDeadline(Promise.resolve(7), deadline, 'the write')).resolves.toBe(7);
  const boom = new Error('refused');
  await expect(beforeDeadline(Promise.reject(boom), deadline, 'the write')).rejects.toBe(boom);
  const never = new Promise<number>(() => {});
  const late = beforeDeadline(never, deadline, 'the write');
  controller.abort();
  const err: unknown = await late.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StoreStalledError);
  expect((err as Error).message).toBe('the write not answered by the store within 1234 ms');
  expect(classifyStoreError(err)).toBe('store_unreachable');
  // Already past: rejects at once, and the late outcome is never an unhandled rejection.
  await expect(beforeDeadline(Promise.reject(new Error('later')), deadline, 'the check')).rejects.toBeInstanceOf(StoreStalledError);
});

it('the commit timeout in effect is at most 3/4 of the body timeout', () => {
  expect(commitTimeout(20_000, 30_000)).toBe(20_000);
  expect(commitTimeout(20_000, 10_000)).toBe(7500);
  expect(commitTimeout(20_000, 1000)).toBe(750);
});
