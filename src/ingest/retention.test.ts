import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { SqliteStore } from '../store/sqlite/store.js';
import { RetentionJob } from './retention.js';

it('deletes data and batch ids older than the retention, keeps the rest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'livestats-retention-'));
  const store = new SqliteStore(join(dir, 'livestats.db'));
  await store.init();
  const now = Date.now();
  const DAY = 86_400_000;
  const row = (minute: number): { project: string; domain: string; minute: number; region: 'GD'; isp: 'CTCC'; code: number; count: number } =>
    ({ project: 'p', domain: 'a.com', minute, region: 'GD', isp: 'CTCC', code: 200, count: 1 });
  await store.write({
    id: 'x', counts: [row(Math.floor((now - 9 * DAY) / 60_000) * 60_000), row(Math.floor((now - DAY) / 60_000) * 60_000)],
    samples: [], tasks: [], checkpoints: [{ key: 'batch:p:old', value: '{}' }, { key: 'follow:/x', value: '{}' }],
  });
  const logs: string[] = [];
  const logger = { info: (_o: object, m: string) => logs.push(m), error: (_o: object, m: string) => logs.push(m) };
  // The checkpoints were written "now": a job whose clock is 9 days ahead sees them as old.
  await new RetentionJob(store, 8, logger, () => now).runOnce();
  const all = await store.queryHttpCodes({ project: 'p', domains: ['a.com'], regions: [], isps: [], fromMinute: 0, toMinute: now + DAY });
  expect(all.map((c) => c.count)).toEqual([1]);
  expect(await store.getCheckpoint('batch:p:old')).toBe('{}');
  await new RetentionJob(store, 8, logger, () => now + 9 * DAY).runOnce();
  expect(await store.getCheckpoint('batch:p:old')).toBeUndefined();
  expect(await store.getCheckpoint('follow:/x')).toBe('{}');
  expect(logs).toContain('retention: deleted older data');
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});
