import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type Database from 'better-sqlite3';
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
 * Before SQLite opens the file: creates a missing one with mode 0600 (SQLite gives -wal and
 * -shm the same mode), tightens older files, and refuses an empty file (an empty file would
 * silently become an empty store) or one that is not an SQLite database at all.
 */
export function prepareStoreFile(file: string): void {
  try {
    closeSync(openSync(file, 'wx', 0o600));
    return; // new: SQLite writes its header at once (journal_mode = WAL)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  tightenFiles([file, `${file}-wal`, `${file}-shm`]);
  const size = statSync(file).size;
  const walSize = statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  if (size === 0) {
    // An empty file with a WAL holding its pages is valid SQLite; quick_check looks at it.
    if (walSize > 0) return;
    throw new StoreDamagedError(file, 'is empty (0 bytes) but a store file always holds at least its header, so its data was lost (truncated)');
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
