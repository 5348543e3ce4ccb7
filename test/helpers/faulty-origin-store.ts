import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/store.js';
import type { OriginBatch } from '../../src/store/origin.js';

/** A real SQLite store at `file` whose next `failures` origin writes fail (a store fault: disk full, locked). */
export async function faultyOriginStore(dir: string, name: string): Promise<{ store: SqliteStore; fail: (times: number) => void }> {
  const store = new SqliteStore(join(dir, name));
  await store.init();
  let failures = 0;
  const write = store.writeOrigin.bind(store);
  store.writeOrigin = async (b: OriginBatch) => {
    if (failures > 0) {
      failures--;
      throw new Error('SQLITE_FULL: database or disk is full');
    }
    return write(b);
  };
  return { store, fail: (times) => { failures = times; } };
}
