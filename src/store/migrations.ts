import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../paths.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Loads `src/store/<backend>/migrations/NNN_name.sql`, ordered by version. */
export function loadMigrations(backend: string): Migration[] {
  const dir = join(projectRoot(), 'src', 'store', backend, 'migrations');
  const out: Migration[] = [];
  for (const file of readdirSync(dir)) {
    const m = /^(\d+)_([\w-]+)\.sql$/.exec(file);
    if (!m) continue;
    out.push({ version: Number(m[1]), name: m[2] ?? file, sql: readFileSync(join(dir, file), 'utf8') });
  }
  out.sort((a, b) => a.version - b.version);
  for (let i = 1; i < out.length; i++) {
    if (out[i]?.version === out[i - 1]?.version) throw new Error(`duplicate ${backend} migration version ${out[i]?.version}`);
  }
  return out;
}
