import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/store.js';
import type { WriteBatch } from '../src/store/types.js';
import { audienceOf, FORMAT, LINES } from './fixtures/audience-log.js';
import { mountSmallFs, type SmallFs } from './harness/small-fs.js';
import { tempDir } from './ingest-helpers.js';

/**
 * The audience writer remembers set entries (HLS viewers, daily users) and ids it stored, so a
 * repeat costs a lookup, not a statement; that memory must only take what a transaction committed.
 * Here a real disk-full (the SQLite file on a small tmpfs, filled) refuses an audience batch, then
 * the same batch is written again on the same store object once space is back: every table of the
 * cube must end as in a store that took the batch once without a fault. A writer that kept entries
 * of the refused transaction would skip its viewers and users on the retry (counts too low).
 */
const fs = mountSmallFs(8);
const skip = typeof fs === 'string' ? fs : undefined;
if (skip) console.warn(`sqlite-audience-disk-full skipped: ${skip}`);

const batch = (): WriteBatch => ({
  id: randomUUID(), counts: [], samples: [], tasks: [], checkpoints: [], audience: audienceOf(FORMAT, LINES).audience,
});

/** Every row of the audience cube's tables (sets, user keys and counts, both cube levels), sorted. */
function audienceRows(file: string): Record<string, string[]> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND (name LIKE 'aud%' OR name LIKE 'cube_au%') ORDER BY name")
      .pluck().all() as string[];
    const out: Record<string, string[]> = {};
    for (const t of tables) {
      out[t] = (db.prepare(`SELECT * FROM "${t}"`).raw().all() as unknown[][])
        .map((r) => JSON.stringify(r.map((v) => (Buffer.isBuffer(v) ? v.toString('hex') : v)))).sort();
    }
    return out;
  } finally {
    db.close();
  }
}

describe.skipIf(skip !== undefined)('audience batch refused by a full disk, then retried', () => {
  const small = fs as SmallFs;
  afterAll(() => {
    small.release();
    small.unmount();
  });

  it('the retry stores exactly what one fault-free write stores', async () => {
    const refFile = join(tempDir('aud-full-ref'), 'livestats.db');
    const ref = new SqliteStore(refFile);
    await ref.init();
    await ref.write(batch());
    await ref.close();
    const expected = audienceRows(refFile);
    expect(expected.aud_hls_v4?.length).toBeGreaterThan(0); // the fixture has HLS viewers
    expect(expected.aud_user_counts?.length).toBeGreaterThan(0);

    mkdirSync(join(small.dir, 'data'));
    const file = join(small.dir, 'data', 'livestats.db');
    // Created and closed first: the WAL is gone, so the next write must grow a new one on the full disk.
    const created = new SqliteStore(file);
    await created.init();
    await created.close();
    const store = new SqliteStore(file);
    try {
      await store.init();
      small.fill(0);
      await expect(store.write(batch())).rejects.toMatchObject({ code: 'SQLITE_FULL' });
      small.release();
      await store.write(batch());
      // A further write of the same HLS viewers and users adds none (the sets are exact).
      await store.write({ ...batch(), audience: audienceOf(FORMAT, LINES.filter((l) => /\.(m3u8|ts)"/.test(l))).audience });
    } finally {
      small.release();
      await store.close();
    }
    const got = audienceRows(file);
    const hlsOnly = join(tempDir('aud-full-ref2'), 'livestats.db');
    const ref2 = new SqliteStore(hlsOnly);
    await ref2.init();
    await ref2.write(batch());
    await ref2.write({ ...batch(), audience: audienceOf(FORMAT, LINES.filter((l) => /\.(m3u8|ts)"/.test(l))).audience });
    await ref2.close();
    expect(got).toEqual(audienceRows(hlsOnly));
    // The repeat of the HLS lines changed no set and no user count: the same as one write.
    expect(got.aud_hls_v4).toEqual(expected.aud_hls_v4);
    expect(got.aud_users_v4).toEqual(expected.aud_users_v4);
    expect(got.aud_user_counts).toEqual(expected.aud_user_counts);
  }, 120_000);
});
