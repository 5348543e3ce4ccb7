import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { projectRoot } from '../../src/paths.js';
import { totalRequests } from '../../src/store/sqlite/reads.js';

const run = promisify(execFile);
export const cliPath = (): string => join(projectRoot(), 'bin', 'livestats.js');

export interface Credentials {
  project_id: string;
  ak: string;
  sk: string;
  token: string;
}

/** `livestats keys create --project P --json` in a data directory. */
export async function createKeys(dataDir: string, project: string, cli = cliPath()): Promise<Credentials> {
  const { stdout } = await run(process.execPath, [cli, 'keys', 'create', '--project', project, '--json', '--data', dataDir]);
  return JSON.parse(stdout) as Credentials;
}

/** A real `livestats serve` in its own process, on a free loopback port. */
export interface ServerProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  output(): string;
  /** SIGTERM (the server flushes everything, then exits); resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** How long a `serve` may take to listen (generous: see startServe). */
const START_TIMEOUT_MS = 120_000;

export async function startServe(args: string[], opts: { nice?: number; cli?: string } = {}): Promise<ServerProcess> {
  const argv = [opts.cli ?? cliPath(), 'serve', '--port', '0', ...args];
  const child = opts.nice ? spawn('nice', ['-n', String(opts.nice), process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let startTimer: NodeJS.Timeout | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.length > 1 << 20) out = out.slice(-(1 << 19));
      const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
      if (m) {
        clearTimeout(startTimer);
        resolve(m[1] as string);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => reject(new Error(`livestats serve exited (${code}) before listening:\n${out}`)));
    // A hang catcher only: on a loaded machine (a test suite beside other work) a start has taken
    // over 20 s; a server that never listens is stopped, not left behind.
    startTimer = setTimeout(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
      reject(new Error(`livestats serve did not start in ${START_TIMEOUT_MS / 1000} s:\n${out}`));
    }, START_TIMEOUT_MS).unref();
  });
  return {
    url,
    pid: child.pid ?? 0,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export function tempData(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `livestats-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Requests stored for a project, read straight from the SQLite file (read-only), as the store counts them. */
export function storedCount(dataDir: string, project: string): number {
  const db = new Database(join(dataDir, 'livestats.db'), { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return totalRequests(db, project);
  } finally {
    db.close();
  }
}

/** Resident set size of a process in KiB (Linux /proc), read synchronously for samplers; 0 once it has exited. */
export function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resident set size of a process, in bytes (Linux /proc). */
export async function rssBytes(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}
