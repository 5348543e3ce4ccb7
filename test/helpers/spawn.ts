import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface Spawned {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  /** Resolves with the first stdout/stderr match of `re`, or rejects after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  /**
   * Sends `signal` (default SIGTERM) and resolves the exit code. A hang catcher: a child still running
   * after `timeoutMs` is killed (SIGKILL) and the promise rejects with the tail of its output, so a hook
   * that stops a server names what the server was doing instead of timing out bare.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

/** The last `chars` characters of a child's output, for an error message. */
export const outputTail = (out: string, chars = 4000): string => (out.length > chars ? `...${out.slice(-chars)}` : out);

export function spawnNode(args: string[], env: NodeJS.ProcessEnv = {}): Spawned {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: 'pipe' });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  // 'close', not 'exit': at 'exit' the last stdout/stderr chunks may still be unread, and tests read the output then.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 60_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      const started = Date.now();
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), timeoutMs);
      });
      const outcome = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (outcome !== 'late') return outcome;
      const pid = child.pid;
      child.kill('SIGKILL');
      await exited;
      throw new Error(`pid ${pid} did not exit within ${Date.now() - started} ms of ${signal} (killed now); the tail of its output:\n${outputTail(out)}`);
    },
    waitFor(re, timeoutMs = 60_000) { // a hang catcher: a start on a busy 2-core machine has taken 18 s
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = out.match(re);
          if (m) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${re}; output so far:\n${out}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}
