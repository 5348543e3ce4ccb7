import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { sampleValue } from '../../test/helpers/exposition.js';
import { tempDir } from '../../test/helpers/tmp.js';
import { SqliteStore } from '../store/sqlite/store.js';
import type { Store } from '../store/types.js';
import { Metrics } from './registry.js';
import { timedStore } from './timed-store.js';

const T = Date.UTC(2026, 0, 1, 10, 0, 0);
let tmp: ReturnType<typeof tempDir>;
let store: SqliteStore;
beforeEach(async () => {
  tmp = tempDir();
  store = new SqliteStore(join(tmp.dir, 'x.db'));
  await store.init();
  await store.write({
    id: 'b', counts: [{ project: 'p', domain: 'a.com', minute: T, region: 'GD', isp: 'CMCC', code: 200, count: 3, bytes: 300 }],
    samples: [{ project: 'p', taskId: 't', second: T, videoFps: 25, videoKbps: 900, audioFps: 43, audioKbps: 128 }],
    tasks: [{ project: 'p', taskId: 't' }], checkpoints: [],
  });
});
afterEach(async () => {
  await store.close();
  tmp.remove();
});

const hc = { project: 'p', domains: ['a.com'], regions: [], isps: [], fromMinute: T, toMinute: T + 60_000 };
const samples = { project: 'p', taskId: 't', from: T, to: T + 1000 };

it('forwards the rendered-body reads with their options, timed as the query they answer', async () => {
  const metrics = new Metrics({ defaultMetrics: false, store });
  const timed = timedStore(store, metrics.store as NonNullable<typeof metrics.store>);
  expect(timed.httpCodesBody).toBeTypeOf('function');
  expect(timed.carouselBody).toBeTypeOf('function');
  expect(timed.releaseBody).toBeTypeOf('function');
  const body = await timed.httpCodesBody?.(hc, [200]);
  expect(Buffer.from(body ?? new Uint8Array()).toString()).toBe(Buffer.from(await store.httpCodesBody(hc, [200])).toString());
  const carousel = await timed.carouselBody?.(samples);
  expect(Buffer.from(carousel ?? new Uint8Array()).toString()).toBe(Buffer.from(await store.carouselBody(samples)).toString());
  // The client-gone signal reaches the store: an aborted one fails the read (recorded as failed).
  const gone = new AbortController();
  gone.abort();
  await expect(timed.httpCodesBody?.(hc, [200], { signal: gone.signal })).rejects.toThrow();
  const text = await metrics.text();
  expect(sampleValue(text, 'livestats_store_query_duration_seconds_count{operation="queryHttpCodes",outcome="ok"}')).toBe(1);
  expect(sampleValue(text, 'livestats_store_query_duration_seconds_count{operation="queryHttpCodes",outcome="failed"}')).toBe(1);
  expect(sampleValue(text, 'livestats_store_query_duration_seconds_count{operation="querySamples",outcome="ok"}')).toBe(1);
  if (body) timed.releaseBody?.(body);
});

it('has no rendered-body reads when the inner store has none (the routes then use the typed reads)', () => {
  // The real SQLite store seen without its optional methods, as a store that lacks them is.
  const hidden = new Set<PropertyKey>(['httpCodesBody', 'carouselBody', 'releaseBody']);
  const plain = new Proxy(store, { get: (t, p, r) => (hidden.has(p) ? undefined : Reflect.get(t, p, r) as unknown) }) as Store;
  const metrics = new Metrics({ defaultMetrics: false, store: plain });
  const timed = timedStore(plain, metrics.store as NonNullable<typeof metrics.store>);
  expect(timed.httpCodesBody).toBeUndefined();
  expect(timed.carouselBody).toBeUndefined();
  expect(timed.releaseBody).toBeUndefined();
});

it('has every method of the inner store, one added later included, with its arguments, and times the reads', async () => {
  // storedNames and nameSpace were added to Store after the hand-written forwarder, which never passed them on.
  const metrics = new Metrics({ defaultMetrics: false, store });
  const timed = timedStore(store, metrics.store as NonNullable<typeof metrics.store>);
  expect(timed.storedNames).toBeTypeOf('function');
  expect(await timed.storedNames?.('p')).toEqual(await store.storedNames('p'));
  expect(await timed.nameSpace?.()).toEqual(await store.nameSpace());
  // A read no Store type knows yet: present, its signal reaches it, timed under its own name.
  const seen: (AbortSignal | undefined)[] = [];
  const later = Object.assign(Object.create(store) as SqliteStore, {
    audienceSeries: (project: string, options?: { signal?: AbortSignal }): Promise<string> => {
      seen.push(options?.signal);
      return options?.signal?.aborted ? Promise.reject(new Error('client gone')) : Promise.resolve(project);
    },
    writeAudience: (): Promise<void> => Promise.resolve(),
  });
  const timedLater = timedStore(later, metrics.store as NonNullable<typeof metrics.store>) as typeof later;
  const gone = new AbortController();
  expect(await timedLater.audienceSeries('p', {})).toBe('p');
  gone.abort();
  await expect(timedLater.audienceSeries('p', { signal: gone.signal })).rejects.toThrow('client gone');
  expect(seen[1]).toBe(gone.signal);
  await timedLater.writeAudience();
  expect(timedLater.kind).toBe(store.kind);
  const text = await metrics.text();
  expect(sampleValue(text, 'livestats_store_query_duration_seconds_count{operation="audienceSeries",outcome="ok"}')).toBe(1);
  expect(sampleValue(text, 'livestats_store_query_duration_seconds_count{operation="audienceSeries",outcome="failed"}')).toBe(1);
  expect(sampleValue(text, 'livestats_store_query_duration_seconds_count{operation="storedNames",outcome="ok"}')).toBe(1);
  expect(text).not.toContain('operation="writeAudience"');
});

it('keeps a synchronous store method synchronous: its value returned, its throw thrown, nothing timed', async () => {
  // SqliteStore.bulk(fn) and initNow() are synchronous; through a timing wrapper that made every
  // read-named method async they returned a promise and a throw became a rejection nobody awaited.
  const metrics = new Metrics({ defaultMetrics: false, store });
  const timed = timedStore(store, metrics.store as NonNullable<typeof metrics.store>) as unknown as SqliteStore;
  let ran = false;
  expect(timed.bulk(() => { ran = true; })).toBeUndefined();
  expect(ran).toBe(true);
  expect(() => timed.bulk(() => { throw new Error('in bulk'); })).toThrow('in bulk');
  expect(await metrics.text()).not.toContain('operation="bulk"');
});
