import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** The few logging calls the probe and the carousel make (a pino logger fits). */
export interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLog: Log = { info: () => {}, warn: () => {}, error: () => {} };

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. the binary is missing). */
  spawnError?: string;
  /** The last stderr lines, for the log. */
  stderr: string[];
}

export interface RunningChild {
  readonly process: ChildProcess;
  readonly exited: Promise<ChildExit>;
  /** Kills the process (SIGTERM, then SIGKILL after graceMs) and waits for it. */
  kill(graceMs?: number): Promise<ChildExit>;
}

const STDERR_LINES = 8;
const STDERR_LINE_CHARS = 300;

/** Spawns a tool, hands each stdout line to `onLine`, and keeps the tail of stderr. */
export function runChild(command: string, args: string[], onLine: (line: string) => void): RunningChild {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  let spawnError: string | undefined;
  if (child.stdout) createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', onLine);
  if (child.stderr) {
    createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
      const trimmed = line.trim();
      if (trimmed.length === 0) return;
      stderr.push(trimmed.slice(0, STDERR_LINE_CHARS));
      if (stderr.length > STDERR_LINES) stderr.shift();
    });
  }
  const exited = new Promise<ChildExit>((resolve) => {
    let done = false;
    child.once('error', (err) => {
      spawnError = err.message;
      // 'close' does not always follow a failed spawn
      setTimeout(() => {
        if (!done) {
          done = true;
          resolve({ code: null, signal: null, spawnError, stderr });
        }
      }, 50);
    });
    child.once('close', (code, signal) => {
      if (done) return;
      done = true;
      resolve({ code, signal, spawnError, stderr });
    });
  });
  return {
    process: child,
    exited,
    async kill(graceMs = 2000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        timer.unref();
        const result = await exited;
        clearTimeout(timer);
        return result;
      }
      return exited;
    },
  };
}
