import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Nice value of the read workers: below the main thread (HTTP, /healthz, ingest acknowledgements)
 * and the write thread, so a burst of heavy queries takes the CPU they leave idle instead of
 * making them wait for a core (the mixed bench row measured the write thread's transaction
 * waiting 3x longer for a core than it ran, the main thread 1.5x). `--query-thread-nice`
 * (src/config.ts) sets it; 0 keeps the read workers at the main thread's priority.
 */
export const READ_THREAD_NICE = 10;

/** The calling thread's kernel thread id (Linux: from the /proc/thread-self link), else undefined. */
export function kernelThreadId(proc = '/proc'): number | undefined {
  try {
    // "<pid>/task/<tid>"
    const m = /(?:^|\/)(\d+)\/task\/(\d+)$/.exec(readlinkSync(`${proc}/thread-self`));
    return m ? Number(m[2]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Gives the calling thread (only: on Linux a thread id names one thread) a nice value of at least
 * `nice`; never raises a priority. Returns the thread's nice value afterwards, or undefined where
 * it cannot be done (no /proc/thread-self, not permitted): the thread then simply keeps its priority.
 */
export function lowerThreadPriority(nice: number, proc = '/proc'): number | undefined {
  const tid = kernelThreadId(proc);
  if (tid === undefined) return undefined;
  try {
    const current = getPriority(tid);
    if (current < nice) setPriority(tid, nice);
    return getPriority(tid);
  } catch {
    return undefined;
  }
}
