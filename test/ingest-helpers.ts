import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { totalRequests } from '../src/store/sqlite/reads.js';
import { trafficTotals } from '../src/store/sqlite/traffic-reads.js';
import { projectRoot } from '../src/paths.js';
import { runTool, type ToolResult } from './helpers/run-tool.js';

export const tempDir = (prefix: string): string => mkdtempSync(join(tmpdir(), `livestats-${prefix}-`));

export { freePort } from './harness/ports.js';

/** The built CLI (npm ci runs the build; locally run `npm run build` first). */
export function cliPath(): string {
  const bin = join(projectRoot(), 'bin', 'livestats.js');
  if (!existsSync(join(projectRoot(), 'dist', 'src', 'cli', 'main.js'))) throw new Error('run `npm run build` before these tests');
  return bin;
}

export function runCli(args: string[], input?: string | Buffer): Promise<ToolResult> {
  return runTool(process.execPath, [cliPath(), ...args], input);
}

export function startCli(args: string[]): ChildProcess {
  return spawn(process.execPath, [cliPath(), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** The shortest deadline of waitFor (see there). */
export const WAIT_FLOOR_MS = 60_000;

/** Total requests stored in a data dir's SQLite file (read-only; WAL lets a writer run). */
export function storedTotal(dataDir: string, project?: string): number {
  const file = join(dataDir, 'livestats.db');
  if (!existsSync(file)) return 0;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return totalRequests(db, project);
  } catch (err) {
    if (/no such table/.test((err as Error).message)) return 0;
    throw err;
  } finally {
    db.close();
  }
}

/** Requests and bytes in a data dir's traffic cubes (per-domain cube; streamRequests: per-stream cube). */
export function storedTraffic(dataDir: string, project?: string): { requests: number; bytes: number; streamRequests: number } {
  const file = join(dataDir, 'livestats.db');
  if (!existsSync(file)) return { requests: 0, bytes: 0, streamRequests: 0 };
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return trafficTotals(db, project);
  } catch (err) {
    if (/no such table/.test((err as Error).message)) return { requests: 0, bytes: 0, streamRequests: 0 };
    throw err;
  } finally {
    db.close();
  }
}

/**
 * Waits for a condition (polled every `stepMs`); false only when it is still not reached after the deadline.
 * The deadline only catches hangs, so it is never shorter than WAIT_FLOOR_MS whatever `timeoutMs` says:
 * on a loaded 2-core machine (other suites running) a CLI start alone has taken 18 s. A passing wait
 * returns as soon as its condition holds, so a long deadline costs nothing.
 */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const end = Date.now() + Math.max(timeoutMs, WAIT_FLOOR_MS);
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return check();
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

/** A combined_host line at time `ms`. */
export function accessLine(ms: number, opts: { ip?: string; status?: number; host?: string; path?: string } = {}): string {
  const d = new Date(ms);
  const t = `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
  return `${opts.ip ?? '127.0.0.1'} - - [${t}] "GET ${opts.path ?? '/live/x.ts'} HTTP/1.1" ${opts.status ?? 200} 123 "-" "test" ${opts.host ?? 'play.example.com'}`;
}
