import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { tempDir } from './ingest-helpers.js';

/**
 * README's "Where data lives" names every table a new SQLite file has (a `name_*` entry covers
 * the tables it prefixes), and only tables that exist.
 */
it('names exactly the tables of a fresh SQLite file', async () => {
  const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Where data lives'), readme.indexOf('## Commands'));
  const named = [...section.matchAll(/`([a-z][a-z0-9_]*\*?)`/g)].map((m) => m[1] as string).filter((n) => n.includes('_') || n === 'meta' || n === 'checkpoints');
  const dir = tempDir('readme-tables');
  const store = new SqliteStore(join(dir, 'livestats.db'));
  await store.init();
  const tables = (store['db'].prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all() as string[]).sort();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const covers = (n: string, t: string): boolean => (n.endsWith('*') ? t.startsWith(n.slice(0, -1)) : t === n);
  const tableNames = named.filter((n) => !['livestats.db', 'credentials.json'].includes(n) && !n.startsWith('--'));
  expect(tables.filter((t) => !tableNames.some((n) => covers(n, t)))).toEqual([]);
  expect(tableNames.filter((n) => !tables.some((t) => covers(n, t)))).toEqual([]);
});
