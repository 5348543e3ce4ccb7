import { accessSync, constants, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Which data directory a command uses, found the same way by every command (docs/storage.md,
 * "Which data directory"):
 *
 * 1. `--data DIR`, else 2. `LIVESTATS_DATA`, else 3. `./data`, for `livestats serve` always (it creates
 *    it), for every other command only when `./data` already is a livestats data directory (it holds
 *    livestats.db, credentials.json or locks/). Otherwise the command stops (exit 2) and asks for
 *    --data or LIVESTATS_DATA, instead of quietly making a new store the server never reads.
 *
 * Commands that only read (`tasks list`, `keys list`, `keys revoke`) never create anything: the
 * directory must exist. Mistakes (a file, a directory this user cannot write) are answered with
 * a DataDirError whose message names the path.
 */
export class DataDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

export const DEFAULT_DATA_DIR = './data';
const MARKERS = new Set(['livestats.db', 'credentials.json', 'locks']);

export interface DataDirChoice {
  dir: string;
  /** Where it came from: '--data', 'LIVESTATS_DATA' or './data' (found in the current directory). */
  source: '--data' | 'LIVESTATS_DATA' | './data';
}

/** True when `dir` is a directory holding something livestats made there. */
export function isLivestatsDir(dir: string): boolean {
  try {
    return statSync(dir).isDirectory() && readdirSync(dir).some((n) => MARKERS.has(n));
  } catch {
    return false;
  }
}

/** The data directory of a command other than serve (see above); throws DataDirError when there is none. */
export function chooseDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): DataDirChoice {
  if (flag !== undefined && flag !== '') return { dir: flag, source: '--data' };
  const fromEnv = env.LIVESTATS_DATA;
  if (fromEnv !== undefined && fromEnv !== '') return { dir: fromEnv, source: 'LIVESTATS_DATA' };
  if (isLivestatsDir(DEFAULT_DATA_DIR)) return { dir: DEFAULT_DATA_DIR, source: './data' };
  const here = statSync(DEFAULT_DATA_DIR, { throwIfNoEntry: false });
  const why = here === undefined ? 'there is no ./data here' : `./data here (${resolve(DEFAULT_DATA_DIR)}) is not a livestats data directory`;
  throw new DataDirError(`which data directory? Pass --data DIR or set LIVESTATS_DATA to the one the server uses (its --data; ` +
    `\`livestats serve\` uses ./data of the directory it was started in); ${why}, and only \`serve\` creates one by itself`);
}

/** A note for stderr when the directory was found rather than named, so the operator sees which one is used. */
export const choiceNote = (c: DataDirChoice): string | undefined =>
  c.source === './data' ? `using data directory ${resolve(c.dir)} (./data, found here; --data or LIVESTATS_DATA choose another)` : undefined;

/**
 * Checks the directory before anything opens files in it: it must be a directory, exist when
 * `mustExist` (read-only commands), and be writable when `write`. Throws DataDirError naming it.
 */
export function checkDataDir(dir: string, o: { mustExist: boolean; write: boolean }): void {
  let s;
  try {
    s = statSync(dir, { throwIfNoEntry: false });
  } catch (err) {
    throw describeFsError(err, dir);
  }
  if (s === undefined) {
    if (o.mustExist) throw new DataDirError(`data directory ${dir} does not exist (is it the server's --data?)`);
    return; // created by the caller (prepareDataDir); a failure there is described by describeFsError
  }
  if (!s.isDirectory()) throw new DataDirError(`data directory ${dir} is not a directory (it is a file); pass --data with a directory`);
  if (!o.write) return;
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw new DataDirError(`data directory ${dir} is not writable by this user` +
      `${process.getuid ? ` (uid ${process.getuid()})` : ''}; fix its owner or mode, or pass another --data`);
  }
}

/** An fs error met while creating or opening the data directory, as a DataDirError naming the path. */
export function describeFsError(err: unknown, dir: string): Error {
  const e = err as NodeJS.ErrnoException;
  const path = e.path ?? dir;
  switch (e.code) {
    case 'EACCES':
    case 'EPERM': return new DataDirError(`data directory ${dir}: permission denied on ${path}; fix its owner or mode, or pass another --data`);
    case 'EEXIST':
    case 'ENOTDIR': return new DataDirError(`data directory ${dir}: ${path} is a file, not a directory; pass --data with a directory`);
    case 'EROFS': return new DataDirError(`data directory ${dir} is on a read-only file system; pass another --data`);
    case 'ENOSPC': return new DataDirError(`data directory ${dir}: no space left on the device`);
    case 'ENOENT': return new DataDirError(`data directory ${dir}: cannot create ${path} there`);
    default: return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * Creates the directory and its missing parents (0700) one level at a time: Node's recursive
 * mkdir never returns for some paths (e.g. under /proc). Throws DataDirError naming the path.
 */
export function makeDataDir(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); statSync(d, { throwIfNoEntry: false }) === undefined; d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && statSync(d, { throwIfNoEntry: false })?.isDirectory()) continue;
      throw describeFsError(err, dir);
    }
  }
}

const FS_REASONS: Record<string, string> = {
  EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'read-only file system', ENOSPC: 'no space left on the device',
  ENOENT: 'no such file or directory', ENOTDIR: 'a part of the path is a file, not a directory', EISDIR: 'is a directory, not a file',
  EEXIST: 'already exists', EMFILE: 'too many open files', EDQUOT: 'disk quota exceeded',
};

/** "cannot open /x/livestats.db: permission denied (EACCES); ..." for a file-system error that names a path, else undefined. */
export function fsErrorText(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException | null;
  if (!e || typeof e.code !== 'string' || typeof e.path !== 'string') return undefined;
  const reason = FS_REASONS[e.code] ?? e.code;
  const who = process.getuid ? ` (this command runs as uid ${process.getuid()})` : '';
  return `cannot ${e.syscall ?? 'use'} ${e.path}: ${reason} (${e.code}); check the path, its owner and mode${who}`;
}
