// A preload that samples what survives a scavenge on a server's main thread (objects promoted to the old
// generation, including those a later mark-compact collects): V8's sampling heap profiler without the minor
// GC's collected objects. For mixed-mini's variants:
//
//   --variant 'sampled=node:--import=<root>/dist/bench/lib/promoted-heap.js PROMOTED_HEAP_DIR=<dir> PROMOTED_HEAP_AT_MS=70000 PROMOTED_HEAP_FOR_MS=110000'
//
// Samples from PROMOTED_HEAP_AT_MS after start for PROMOTED_HEAP_FOR_MS (or until SIGTERM), then writes
// <dir>/<pid>.heapprofile (Chrome DevTools' format). Worker threads load it too and do nothing.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

interface SamplingProfile { head: unknown; samples: unknown[] }

const dir = process.env.PROMOTED_HEAP_DIR;
if (isMainThread && dir !== undefined) {
  const session = new Session();
  session.connect();
  let sampling = false;
  const stop = (): void => {
    if (!sampling) return;
    sampling = false;
    session.post('HeapProfiler.stopSampling', (err, r: { profile: SamplingProfile }) => {
      if (!err) writeFileSync(join(dir, `${process.pid}.heapprofile`), JSON.stringify(r.profile));
    });
  };
  setTimeout(() => {
    session.post('HeapProfiler.enable', () => session.post('HeapProfiler.startSampling',
      { samplingInterval: 32_768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false },
      (err) => { sampling = err === null; }));
    setTimeout(stop, Number(process.env.PROMOTED_HEAP_FOR_MS ?? 15_000)).unref();
  }, Number(process.env.PROMOTED_HEAP_AT_MS ?? 90_000)).unref();
  process.prependListener('SIGTERM', stop);
}
