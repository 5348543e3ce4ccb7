import { join } from 'node:path';
import Database from 'better-sqlite3';

/** The anchor (epoch ms) the dense SQLite dataset in `dir` was generated at (its bench.dense meta row); throws for any other directory. */
export function denseAnchor(dir: string): number {
  const db = new Database(join(dir, 'livestats.db'), { readonly: true, fileMustExist: true });
  try {
    const meta = db.prepare("SELECT value FROM meta WHERE key = 'bench.dense'").pluck().get() as string | undefined;
    if (!meta) throw new Error(`${dir}: no bench.dense meta row (not a dense dataset)`);
    return (JSON.parse(meta) as { anchor: number }).anchor;
  } finally {
    db.close();
  }
}
