// The ClickHouse store's query work behind its write path (issue 24: the ingest acknowledgement while the heaviest
// query runs): its block and rendering worker threads lower their own nice value (--query-thread-nice, as the
// SQLite read threads do), and with --clickhouse-reads-yield its reads carry a lower ClickHouse `priority` than
// the write path's statements (a read pauses while an insert, the X-Batch-Id check or a checkpoint runs).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore, readsYield } from '../src/store/clickhouse/store.js';
import { READ_PRIORITY, WRITE_PRIORITY } from '../src/store/clickhouse/client.js';
import { UsersBodies } from '../src/store/clickhouse/users-bodies.js';
import { blockWorkerUrl } from '../src/store/clickhouse/worker-host.js';
import type { CountRow } from '../src/store/types.js';
import { startClickHouseIn, type ClickHouseServer } from './harness/clickhouse.js';
import { hourBlockWorkerUrl, requireBuiltHourBlockWorker, untilFromBlocks } from './helpers/block-stores.js';
import { requireTools } from './helpers/system-tools.js';
import { batch } from './store-conformance.js';

requireTools('clickhouse-server');
requireBuiltHourBlockWorker();

const MIN = 60_000;
const HOUR = 3_600_000;
const linux = process.platform === 'linux' && existsSync('/proc/thread-self');
/** A nice value nothing else in this process uses (the SQLite read threads' default is 10). */
const NICE = 13;
/** Two closed hours, two days ago. */
const H0 = (Math.floor(Date.now() / HOUR) - 48) * HOUR;

/** A thread's nice value as the kernel reports it (field 19 of /proc/<pid>/task/<tid>/stat). */
function niceOf(tid: string): number {
  const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/** This process's threads at nice value `nice`. */
const threadsAt = (nice: number): number => readdirSync(`/proc/${process.pid}/task`).filter((t) => {
  try {
    return niceOf(t) === nice;
  } catch {
    return false; // a thread that ended meanwhile
  }
}).length;

const cells = (domain: string): CountRow[] => Array.from({ length: 120 }, (_, i) => ({
  project: 'p1', domain, minute: H0 + (i % 120) * MIN, region: i % 2 ? 'GD' : 'SH', isp: 'CMCC', code: i % 3 ? 200 : 404, count: 1 + i, bytes: 1000,
}));

describe.runIf(linux)('ClickHouse worker threads below the main thread (Linux)', () => {
  const base = niceOf(String(process.pid));

  it('a users-body worker gives itself the nice value it is started with, 0 leaves it at the main thread\'s', async () => {
    if (base >= NICE) return; // a runner niced this far leaves nothing to lower
    const url = blockWorkerUrl('users-body-worker.js');
    if (!url) throw new Error('run `npm run build` before this test');
    const slots = { slotMs: MIN, from: H0, to: H0 + 10 * MIN };
    const before = threadsAt(NICE);
    const low = new UsersBodies(1, url, NICE);
    const same = new UsersBodies(1, url, 0);
    try {
      await same.render(slots, new Float64Array(10));
      expect(same.stats.workers).toBe(1);
      expect(threadsAt(NICE)).toBe(before);
      await low.render(slots, new Float64Array(10));
      expect(low.stats.workers).toBe(1);
      expect(threadsAt(NICE)).toBe(before + 1);
      // This thread (the main thread of the process) is untouched.
      expect(niceOf(String(process.pid))).toBe(base);
    } finally {
      await low.close();
      await same.close();
    }
  });

  describe('on a real clickhouse-server', () => {
    const dir = mkdtempSync(join(tmpdir(), 'livestats-ch-nice-'));
    let server: ClickHouseServer | undefined;
    beforeAll(async () => {
      server = await startClickHouseIn(dir, { queryLog: true });
    });
    afterAll(async () => {
      await server?.destroy();
      rmSync(dir, { recursive: true, force: true });
    });

    it('runs the hour-block workers at --query-thread-nice (ClickHouseStore queryThreadNice), the main thread at its own', async () => {
      if (base >= NICE) return;
      const ch = server as ClickHouseServer;
      const store = new ClickHouseStore({ url: ch.url('nice_blocks'), hourBlocks: { workerUrl: hourBlockWorkerUrl, workers: 2 }, queryThreadNice: NICE });
      try {
        await store.init();
        await store.write(batch({ counts: cells('a.example.com') }));
        const before = threadsAt(NICE);
        const f = { project: 'p1', domains: ['a.example.com'], regions: [], isps: [], fromMinute: H0, toMinute: H0 + 2 * HOUR };
        await untilFromBlocks(store.hourBlocks?.stats, () => store.httpCodesBody(f, []), 'hour blocks');
        // Both workers of the pool (started together at the first build) lowered themselves.
        expect(threadsAt(NICE)).toBe(before + 2);
        expect(niceOf(String(process.pid))).toBe(base);
      } finally {
        await store.close();
      }
    });

    /** The `priority` each statement of `database` carried, by kind ('' where it carried none). */
    async function priorities(database: string): Promise<Map<string, Set<string>>> {
      const ch = server as ClickHouseServer;
      await ch.sql('SYSTEM FLUSH LOGS');
      const text = await ch.sql(`SELECT
          multiIf(startsWith(query, 'INSERT'), 'insert', startsWith(query_id, 'livestats-read-'), 'read', 'other') AS kind,
          arrayStringConcat(arrayFilter((v, n) -> n = 'priority', Settings.Values, Settings.Names)) AS priority
        FROM system.query_log
        WHERE type = 2 AND query LIKE '%${database}%' AND query NOT LIKE '%query_log%'
        FORMAT TabSeparated`);
      const out = new Map<string, Set<string>>();
      // Not trimmed: a row without a priority ends with its tab.
      for (const line of text.split('\n')) {
        if (!line) continue;
        const [kind, priority] = line.split('\t') as [string, string];
        out.set(kind, (out.get(kind) ?? new Set()).add(priority));
      }
      return out;
    }

    it('with readsYield: every read at READ_PRIORITY, every write-path statement at WRITE_PRIORITY; without it: no priority', async () => {
      const ch = server as ClickHouseServer;
      for (const [database, readsYield] of [['yield_on', true], ['yield_off', false]] as const) {
        const store = new ClickHouseStore({ url: ch.url(database), hourBlocks: false, readsYield });
        try {
          await store.init();
          const f = { project: 'p1', domains: ['b.example.com'], regions: [], isps: [], fromMinute: H0, toMinute: H0 + 2 * HOUR };
          await store.write(batch({ counts: cells('b.example.com') }));
          const rows = await store.queryHttpCodes(f);
          expect(rows.length).toBeGreaterThan(0);
        } finally {
          await store.close();
        }
      }
      const on = await priorities('yield_on');
      expect(on.get('insert')).toEqual(new Set([String(WRITE_PRIORITY)]));
      expect(on.get('read')).toEqual(new Set([String(READ_PRIORITY)]));
      const off = await priorities('yield_off');
      expect(off.get('insert')).toEqual(new Set(['']));
      expect(off.get('read')).toEqual(new Set(['']));
    });
  });
});

describe('reads yield to the write path', () => {
  it('not in the replicated layout: an insert waiting for ZooKeeper or its quorum would pause every read', () => {
    expect(readsYield({ readsYield: true })).toBe(true);
    expect(readsYield({ readsYield: true, replicated: false })).toBe(true);
    expect(readsYield({ readsYield: true, replicated: true })).toBe(false);
    expect(readsYield({})).toBe(false);
    expect(readsYield({ readsYield: false })).toBe(false);
  });
});
