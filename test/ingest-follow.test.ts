import { appendFileSync, copyFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Aggregator } from '../src/ingest/aggregator.js';
import { Follower } from '../src/ingest/follow/follower.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { accessLine, storedTotal, tempDir } from './ingest-helpers.js';

const lines = (n: number, from = 0): string =>
  Array.from({ length: n }, (_, i) => accessLine(Date.now() - 60_000, { path: `/s/${from + i}` }) + '\n').join('');

interface Rig {
  dir: string;
  log: string;
  store: SqliteStore;
  aggregator: Aggregator;
  follower: Follower;
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function rig(dir: string): Promise<Rig> {
  const store = new SqliteStore(join(dir, 'data', 'livestats.db'));
  await store.init();
  const aggregator = new Aggregator(store, { flushIntervalMs: 20 });
  const log = join(dir, 'access.log');
  const follower = new Follower({
    path: log, project: 'p', settings: { format: 'combined_host', retentionDays: 8 }, aggregator,
    getCheckpoint: (k) => store.getCheckpoint(k), pollMs: 10_000,
  });
  return { dir, log, store, aggregator, follower };
}

async function settle(r: Rig): Promise<number> {
  await r.follower.tick();
  await r.aggregator.flush();
  return storedTotal(join(r.dir, 'data'));
}

async function shutdown(r: Rig): Promise<void> {
  await r.follower.stop();
  await r.aggregator.stop();
  await r.store.close();
}

describe('follow (tail -F with exactly-once checkpoints)', () => {
  it('survives rename+create rotation, including a partial last line', async () => {
    const dir = tempDir('follow');
    dirs.push(dir);
    writeFileSync(join(dir, 'access.log'), lines(100));
    const r = await rig(dir);
    await r.follower.start();
    expect(await settle(r)).toBe(100);
    const tail = lines(1, 100);
    appendFileSync(r.log, lines(50, 101) + tail.slice(0, 20)); // half a line not yet terminated
    expect(await settle(r)).toBe(150);
    appendFileSync(r.log, tail.slice(20));
    renameSync(r.log, `${r.log}.1`);
    writeFileSync(r.log, lines(30, 200));
    expect(await settle(r)).toBe(151); // the old file is finished first
    appendFileSync(`${r.log}.1`, lines(4, 300)); // the writer has not reopened its log yet
    expect(await settle(r)).toBe(155); // still on the old file: it was written
    expect(await settle(r)).toBe(185); // quiet: switched to the new file
    await shutdown(r);
  });

  it('survives copytruncate, also when the new file grew past the old offset', async () => {
    const dir = tempDir('follow');
    dirs.push(dir);
    writeFileSync(join(dir, 'access.log'), lines(40));
    const r = await rig(dir);
    await r.follower.start();
    expect(await settle(r)).toBe(40);
    copyFileSync(r.log, `${r.log}.1`);
    truncateSync(r.log, 0);
    appendFileSync(r.log, lines(10, 1000));
    expect(await settle(r)).toBe(50);
    copyFileSync(r.log, `${r.log}.2`);
    truncateSync(r.log, 0);
    appendFileSync(r.log, lines(60, 2000)); // bigger than the offset we had: only the fingerprint tells
    expect(await settle(r)).toBe(110);
    await shutdown(r);
  });

  it('resumes after a restart, also when the file was rotated while stopped', async () => {
    const dir = tempDir('follow');
    dirs.push(dir);
    writeFileSync(join(dir, 'access.log'), lines(25));
    let r = await rig(dir);
    await r.follower.start();
    expect(await settle(r)).toBe(25);
    await shutdown(r);
    appendFileSync(r.log, lines(5, 100)); // written while we were down
    r = await rig(dir);
    await r.follower.start();
    expect(await settle(r)).toBe(30);
    await shutdown(r);
    appendFileSync(r.log, lines(7, 200)); // unread, then rotated away while down
    renameSync(r.log, `${r.log}.1`);
    writeFileSync(r.log, lines(3, 300));
    r = await rig(dir);
    await r.follower.start();
    expect(await settle(r)).toBe(40);
    await shutdown(r);
  });

  it('stops advancing while the store refuses writes, then resumes from the committed offset: exact total', async () => {
    const dir = tempDir('follow');
    dirs.push(dir);
    writeFileSync(join(dir, 'access.log'), lines(10));
    const r = await rig(dir);
    // Fault injection on the real store (the real full disk: test/faults-disk-full.test.ts).
    let failing = false;
    const realWrite = r.store.write.bind(r.store);
    r.store.write = async (b) => {
      if (failing) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      return realWrite(b);
    };
    await r.follower.start();
    expect(await settle(r)).toBe(10);
    failing = true;
    appendFileSync(r.log, lines(20, 100));
    await r.follower.tick();
    await expect(r.aggregator.flush()).rejects.toThrow('store unavailable (disk_full)');
    appendFileSync(r.log, lines(5, 200));
    for (let i = 0; i < 3; i++) {
      await r.follower.tick(); // refused: nothing more is fed until the store is back
      expect(r.aggregator.stats().pendingRecords).toBe(0);
    }
    expect(storedTotal(join(r.dir, 'data'))).toBe(10);
    failing = false;
    r.aggregator.start(); // its probe notices the recovery
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (r.aggregator.health.ok) resolve(clearInterval(t));
      }, 10);
    });
    expect(await settle(r)).toBe(35);
    expect(r.follower.rewinds).toBe(1);
    await shutdown(r);
  });

  it('skips lines the store rejects for their data (a data fault, not an outage) instead of stalling on them', async () => {
    const dir = tempDir('follow');
    dirs.push(dir);
    writeFileSync(join(dir, 'access.log'), lines(5));
    const r = await rig(dir);
    // Fault injection on the real store: any batch carrying the domain poison.example.com fails, every
    // other write succeeds (the real poison, bytes past 2^53, is bounded at parse time now:
    // test/blast-radius.test.ts runs it through a real `ingest --follow`).
    const realWrite = r.store.write.bind(r.store);
    r.store.write = async (b) => {
      if (b.packed?.some((p) => p.cells.slotDomains.includes('poison.example.com'))) throw new RangeError('value out of range');
      return realWrite(b);
    };
    await r.follower.start();
    expect(await settle(r)).toBe(5);
    appendFileSync(r.log, accessLine(Date.now() - 60_000, { host: 'poison.example.com' }) + '\n' + lines(3, 100));
    expect(await settle(r)).toBe(5); // rejected (with the 3 lines read with it), after a few attempts
    expect(r.aggregator.health.ok).toBe(true);
    appendFileSync(r.log, lines(6, 200));
    expect(await settle(r)).toBe(11); // resumed after the rejected lines, not stalled on them
    expect(r.follower.rejectedLines).toBe(4);
    expect(r.follower.rewinds).toBe(1);
    await shutdown(r);
  });
});
