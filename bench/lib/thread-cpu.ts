import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc times (USER_HZ; 100 on every Linux this runs on). */
const USER_HZ = 100;

/** CPU time (ms, user + system) of a server process's threads, in three groups. */
export interface ThreadCpu {
  /** The main thread (tid = pid): JavaScript, HTTP, the GC's own pauses. */
  main: number;
  /**
   * The threads node starts before any JavaScript runs (V8's platform workers: concurrent marking, parallel
   * scavenge and compaction helpers, background compilation; node's delayed-task and inspector threads).
   */
  platform: number;
  /** Every thread started later: worker_threads (block and rendering workers) and libuv's pool. */
  later: number;
}

/**
 * How many threads a node process started with `nodeFlags` has besides its main thread before its first line of
 * JavaScript (node 20: 4 V8 platform workers by default, its delayed-task scheduler and inspector threads), from a
 * bare process with the same flags.
 */
export function startupThreads(nodeFlags: readonly string[] = []): number {
  const flags = nodeFlags.filter((f) => !f.startsWith('--cpu-prof') && !f.startsWith('--import') && !f.startsWith('--trace'));
  const out = execFileSync(process.execPath, [...flags, '-e', "process.stdout.write(String(require('fs').readdirSync('/proc/self/task').length))"]).toString();
  return Number(out) - 1;
}

/**
 * The CPU time of `pid`'s threads so far by group: the main thread, the first `startup` threads after it (their
 * thread ids are the lowest after the pid's: created in order at start), and the rest. Threads that ended are
 * missing (none of a server's do while it serves).
 */
export function threadCpuMs(pid: number | undefined, startup: number): ThreadCpu {
  const out: ThreadCpu = { main: 0, platform: 0, later: 0 };
  if (pid === undefined) return out;
  let tids: number[];
  try {
    tids = readdirSync(`/proc/${pid}/task`).map(Number).sort((a, b) => a - b);
  } catch {
    return out;
  }
  const others = tids.filter((t) => t !== pid);
  for (const tid of tids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = ((Number(f[11]) + Number(f[12])) * 1000) / USER_HZ;
    if (tid === pid) out.main += ms;
    else if (others.indexOf(tid) < startup) out.platform += ms;
    else out.later += ms;
  }
  return out;
}
