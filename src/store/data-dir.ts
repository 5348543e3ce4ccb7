import { createHash } from 'node:crypto';
import {
  chmodSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { checkDataDir, makeDataDir } from './data-dir-choice.js';

/**
 * The data directory's safety rules (docs/storage.md, "The data directory"):
 *
 * - Permissions: the directory is created 0700 and every file livestats writes in it 0600
 *   (SQLite gives `-wal` and `-shm` the mode of the database file). An existing directory
 *   open to other users is tightened to 0700 when it is a dedicated livestats directory
 *   (owned by this user, holding only livestats files); otherwise livestats warns and leaves it.
 * - Process locks: one `livestats serve` per data directory, one follower per followed file.
 *   A lock is a SQLite write lock (an fcntl lock the kernel drops when its process dies, even
 *   on kill -9) on an empty file under `<data>/locks/`; beside it a JSON note names the holder
 *   (pid, command, start time) for the error the next process prints.
 */

const LOCKS_DIR = 'locks';
/** Files livestats itself keeps in a data directory (what makes it a dedicated one). */
const OWN_FILE = /^(livestats\.db(-wal|-shm|-journal|\.\d+\.new(-wal|-shm)?)?|credentials\.json(\.lock|\.\d+\.tmp)?|locks)$/;

const modeText = (mode: number): string => `0${(mode & 0o777).toString(8)}`;
const ownedByMe = (uid: number): boolean => process.getuid === undefined || process.getuid() === uid;

/**
 * Creates the data directory (0700), or tightens an existing one as described above.
 * Returns a warning to show when it could not (or did) change anything, else undefined.
 */
export function prepareDataDir(dir: string): string | undefined {
  checkDataDir(dir, { mustExist: false, write: true });
  makeDataDir(dir);
  tightenFiles([join(dir, 'credentials.json')]);
  const s = statSync(dir);
  if ((s.mode & 0o077) === 0) return undefined;
  const names = readdirSync(dir);
  const dedicated = ownedByMe(s.uid) && resolve(dir) !== '/' && names.every((n) => OWN_FILE.test(n));
  if (!dedicated) {
    return `data directory ${dir} is open to other users (mode ${modeText(s.mode)}) and holds other files or belongs to ` +
      `another user, so it was left as it is; its files are 0600, but consider chmod 700 ${dir}`;
  }
  chmodSync(dir, s.mode & 0o700);
  return `data directory ${dir} was open to other users (mode ${modeText(s.mode)}); tightened to ${modeText(s.mode & 0o700)}`;
}

/** chmod 600 for each existing file open to other users that this user owns (older builds left 0644). */
export function tightenFiles(files: readonly string[]): void {
  for (const f of files) {
    const s = statSync(f, { throwIfNoEntry: false });
    if (s && s.isFile() && (s.mode & 0o077) !== 0 && ownedByMe(s.uid)) chmodSync(f, s.mode & 0o600);
  }
}

/** Who holds a lock, as its holder wrote it. */
export interface LockHolder {
  pid: number;
  command: string;
  started: string;
  host: string;
}

/** Another live process holds the lock; the message names it and what to do. */
export class LockHeldError extends Error {
  constructor(message: string, readonly holder: LockHolder | undefined) {
    super(message);
    this.name = 'LockHeldError';
  }
}

export interface ProcessLock {
  readonly file: string;
  /** Gives the lock up (also done by the kernel if the process dies). */
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(note: string): LockHolder | undefined {
  try {
    const v = JSON.parse(readFileSync(note, 'utf8')) as Partial<LockHolder>;
    if (typeof v.pid === 'number' && typeof v.command === 'string' && typeof v.started === 'string') {
      return { pid: v.pid, command: v.command, started: v.started, host: typeof v.host === 'string' ? v.host : '' };
    }
  } catch {
    // absent or half-written: unknown holder
  }
  return undefined;
}

function writeNote(note: string, holder: LockHolder): void {
  const tmp = `${note}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(holder) + '\n');
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, note);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How long a refused process tries again before it gives up: a holder being killed still holds
 * the lock for a moment, and a holder that has just locked writes its note right after.
 */
const RETRY_MS = 2000;

/**
 * Takes the lock `<dataDir>/locks/<name>.lock` for `command` (e.g. "livestats serve"), or throws
 * LockHeldError naming the live holder. `what` describes the locked thing for the message.
 */
export async function acquireLock(dataDir: string, name: string, command: string, what: string): Promise<ProcessLock> {
  const dir = join(dataDir, LOCKS_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${name}.lock`);
  const note = `${file}.json`;
  const deadline = Date.now() + RETRY_MS;
  for (;;) {
    try {
      closeSync(openSync(file, 'wx', 0o600));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const db = new Database(file);
    let locked = false;
    try {
      // No journal file: the lock file stays empty; the transaction never writes.
      db.pragma('journal_mode = MEMORY');
      db.pragma('busy_timeout = 0');
      db.exec('BEGIN IMMEDIATE');
      locked = true;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') {
        db.close();
        throw err;
      }
    }
    if (locked) {
      const me: LockHolder = {
        pid: process.pid, command, host: hostname(),
        started: new Date(Date.now() - process.uptime() * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
      };
      writeNote(note, me);
      let released = false;
      return {
        file,
        release() {
          if (released) return;
          released = true;
          const now = readHolder(note);
          if (now?.pid === me.pid && now.started === me.started) rmSync(note, { force: true });
          if (db.open) db.close(); // closing ends the transaction and drops the lock
        },
      };
    }
    db.close();
    if (Date.now() < deadline) {
      await sleep(100);
      continue;
    }
    const found = readHolder(note);
    const holder = found && alive(found.pid) ? found : undefined;
    const who = holder
      ? `${holder.command} (pid ${holder.pid}${holder.host && holder.host !== hostname() ? ` on ${holder.host}` : ''}, started ${holder.started})`
      : 'another livestats process (its pid is unknown)';
    throw new LockHeldError(`${what} is in use by ${who}; stop that process first (lock file ${file})`, holder);
  }
}

/** The lock name of a followed file: its real directory and name, hashed (one follower per file). */
export function followLockName(path: string): string {
  const abs = resolve(path);
  let real = abs;
  try {
    real = join(realpathSync(dirname(abs)), basename(abs));
  } catch {
    // directory not there yet: the path as given
  }
  return `follow-${createHash('sha256').update(real).digest('hex').slice(0, 24)}`;
}
