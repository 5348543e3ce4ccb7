import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc times (USER_HZ; 100 on every Linux this runs on). */
const USER_HZ = 100;

/**
 * CPU time (user + system, ms) of all children this process has waited for, from
 * /proc/self/stat (cutime, cstime). The difference around a spawnSync is that child's CPU
 * time, threads included: unlike wall time, it hardly moves when other processes compete for
 * the cores. Resolution 10 ms. undefined where /proc is missing.
 */
export function childrenCpuMs(): number | undefined {
  let stat: string;
  try {
    stat = readFileSync('/proc/self/stat', 'utf8');
  } catch {
    return undefined;
  }
  // Fields after "(comm)": state is field 3; cutime and cstime are fields 16 and 17.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cutime = Number(fields[13]);
  const cstime = Number(fields[14]);
  return Number.isFinite(cutime) && Number.isFinite(cstime) ? ((cutime + cstime) * 1000) / USER_HZ : undefined;
}

/** CPU time (user + system, every thread, ms) a running process has used so far (/proc/<pid>/stat; resolution 10 ms); 0 without a pid. */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "(comm)": utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
}
