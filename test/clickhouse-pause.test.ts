import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { requireTools } from './helpers/system-tools.js';
import { waitFor } from './ingest-helpers.js';

requireTools('clickhouse-server');

/** What one GET of `SELECT 1` got before `ms` passed: the body, or 'no answer'. */
async function selectOne(ch: ClickHouseServer, ms: number): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await (await fetch(`http://127.0.0.1:${ch.httpPort}/?query=SELECT%201`, { signal: controller.signal })).text();
  } catch {
    return 'no answer';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The fault tests' stall (test/faults-clickhouse-stall.test.ts): a request sent once pause() has
 * returned is never answered until SIGCONT. With SIGSTOP alone (kill(2) returns before the server's
 * threads have stopped) about a third of such requests were answered within a few ms, and a write
 * the stall test meant to leave hanging landed at once.
 */
describe('ClickHouseServer.pause (SIGSTOP, then every thread stopped)', () => {
  let ch: ClickHouseServer;
  beforeAll(async () => {
    ch = await startClickHouse();
  });
  afterAll(async () => {
    ch?.signal('SIGCONT');
    await ch?.destroy();
  });

  it('a request sent after pause() returns is not answered until SIGCONT, every time', async () => {
    const answered: number[] = [];
    for (let i = 0; i < 20; i++) {
      expect(await waitFor(async () => (await selectOne(ch, 5000)) === '1\n', 30_000, 20)).toBe(true);
      await ch.pause();
      // A stopped server can never answer: the bound only ends the wait, it is no timing assertion.
      if ((await selectOne(ch, 200)) !== 'no answer') answered.push(i);
      ch.signal('SIGCONT');
    }
    expect(answered).toEqual([]);
  }, 120_000);
});
