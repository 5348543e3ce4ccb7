import { closeSync, linkSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tightenFiles } from '../data-dir.js';

/**
 * The store file is damaged or is not a livestats store: found when the store opens, so the
 * process refuses to start (naming the file and what to do) instead of answering `/healthz` ok
 * and then failing every write.
 */
export class StoreDamagedError extends Error {
  constructor(readonly file: string, what: string) {
    super(`${file} ${what}. livestats does not start on it: restore the file from a backup, or move it away ` +
      `(with its -wal and -shm files, if any) to start with an empty store; \`sqlite3 ${file} .recover\` can ` +
      'salvage what is still readable (see docs/storage.md, "A damaged store")');
    this.name = 'StoreDamagedError';
  }
}

const HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** How the store is checked when it opens (docs/storage.md). */
export type StartCheck = 'quick' | 'header';

/**
 * A new store file appears whole: built under a temporary name (mode 0600, its header written:
 * page size and WAL mode) and linked into place, so a process starting at the same moment
 * never sees an empty file (which it would refuse as truncated). If another process linked
 * its file first, that one is used.
 */
function createStoreFile(file: string, pageSize: number): void {
  const tmp = `${file}.${process.pid}.new`;
  try {
    closeSync(openSync(tmp, 'w', 0o600));
    const db = new Database(tmp);
    try {
      db.pragma(`page_size = ${pageSize}`);
      db.pragma('journal_mode = WAL');
    } finally {
      db.close();
    }
    try {
      linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  } finally {
    for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
  }
}

/**
 * Before SQLite opens the file: creates a missing one (mode 0600; SQLite gives -wal and -shm
 * the same mode), tightens older files, and refuses an empty file (an empty file would
 * silently become an empty store) or one that is not an SQLite database at all.
 */
export function prepareStoreFile(file: string, pageSize: number): void {
  if (!statSync(file, { throwIfNoEntry: false })) createStoreFile(file, pageSize);
  tightenFiles([file, `${file}-wal`, `${file}-shm`]);
  const size = statSync(file).size;
  const walSize = statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  if (size === 0) {
    // An empty file with a WAL holding its pages is valid SQLite; quick_check looks at it.
    if (walSize > 0) return;
    throw new StoreDamagedError(file, 'is empty (0 bytes): a store file always holds at least its header, so this one was truncated and its data is lost');
  }
  const head = Buffer.alloc(HEADER.length);
  const fd = openSync(file, 'r');
  let got = 0;
  try {
    got = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (got < HEADER.length || !head.equals(HEADER)) throw new StoreDamagedError(file, 'is not an SQLite database (its header is wrong or damaged)');
}

/** Errors SQLite reports for a damaged file. */
export const isCorruption = (err: unknown): boolean =>
  /^SQLITE_(CORRUPT|NOTADB)/.test(String((err as { code?: unknown })?.code ?? ''));

/**
 * PRAGMA quick_check: reads every page and checks the b-tree structure (not index contents);
 * about 0.4 s per GiB of file when cached, bounded by disk reads otherwise (docs/storage.md).
 */
export function quickCheck(db: Database.Database, file: string): void {
  let rows: string[];
  try {
    rows = db.prepare('PRAGMA quick_check(5)').pluck().all() as string[];
  } catch (err) {
    if (isCorruption(err)) throw new StoreDamagedError(file, `is damaged (${(err as Error).message})`);
    throw err;
  }
  if (rows.length === 1 && rows[0] === 'ok') return;
  throw new StoreDamagedError(file, `is damaged (SQLite quick_check: ${rows.join('; ').slice(0, 300)})`);
}
