import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { allowAll } from '../src/api/auth.js';
import { resolveServeConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { mountSmallFs, type SmallFs } from './harness/small-fs.js';
import { recordFault } from './helpers/fault-report.js';
import { storedPerDomain } from './helpers/stored.js';
import { captureLogger } from './helpers/log-capture.js';
import { createSocket } from 'node:dgram';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { accessLine, freePort, runCli, startCli, storedTotal, tempDir, waitFor } from './ingest-helpers.js';

/**
 * The disk-full case of issue 15, for real: the SQLite data directory on a 12 MiB tmpfs filled
 * to the brim, 60 batches of 5,000 lines posted over HTTP, then space freed and the refused
 * batches retried (half with X-Batch-Id, half without). The CLI tests each have a tmpfs of their
 * own (see ownSmallFs).
 */
const fs = mountSmallFs(12);
const skip = typeof fs === 'string' ? fs : undefined;
if (skip) console.warn(`faults-disk-full skipped: ${skip}`);

/**
 * A tmpfs for one CLI test alone. They used to share the server test's, whose store stays open
 * with a WAL of whatever size its run left: the space left to a CLI re-run after `release()` then
 * varied by run (4.75 to 5.5 MB measured) while the re-run needed up to 4.8 MB, and it failed
 * (disk_full) now and then (CI at 18:19 UTC, main 10cfdd4).
 */
function ownSmallFs(): SmallFs {
  const own = mountSmallFs(12);
  if (typeof own === 'string') throw new Error(own);
  return own;
}

/** Runs `test` on a small filesystem of its own (ownSmallFs), released and unmounted after. */
async function onOwnSmallFs(test: (small: SmallFs) => Promise<void>): Promise<void> {
  const own = ownSmallFs();
  try {
    await test(own);
  } finally {
    own.release();
    own.unmount();
  }
}

/** A command's exit code; when it is not `code`, the message shows the command's stderr (why it failed). */
function expectExit(run: { code: number | null; stderr: string }, code: number, what: string): void {
  expect(run.code, `${what} exited ${run.code}; stderr:\n${run.stderr}`).toBe(code);
}

const HOUR_MS = 3_600_000;

/**
 * Times for the CLI tests' log lines: minute `k % 45` counted back from 50 minutes into the
 * previous whole UTC hour, so the 45 minutes never cross an hour, 6-hour or day boundary. Lines
 * of the last 45 minutes did when the clock was past such a boundary (a traffic block is 6 hours,
 * a playback block 1 hour): each domain then filled twice the blocks, the re-run below needed
 * 4.7 to 4.8 MB instead of 3.4 MB, and how much space a test needs must not depend on the hour it runs.
 */
function pinnedTimes(): (k: number) => number {
  const hour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - HOUR_MS;
  return (k) => hour + (50 - (k % 45)) * 60_000;
}

const BATCHES = 60;
const LINES = 5000;
const FULL_UNTIL = 40; // batches 0..39 are posted while the disk is full, 40..59 after space is freed
const domain = (i: number): string => `b${i}.disk.example`;

function batchBody(i: number): string {
  const t0 = Date.now() - 120_000;
  const lines: string[] = [];
  for (let j = 0; j < LINES; j++) {
    lines.push(accessLine(t0 - (j % 45) * 60_000, { host: domain(i), status: 200 + (j % 7), ip: `1.${(j * 7 + i) % 250}.${j % 13}.9` }));
  }
  return lines.join('\n') + '\n';
}

describe.skipIf(skip !== undefined)('disk full under the SQLite data directory', () => {
  const small = fs as SmallFs;
  let server: RunningServer;
  const log = captureLogger();

  beforeAll(async () => {
    const config = resolveServeConfig({
      port: '0', data: join(small.dir, 'data'), 'query-cache-ms': '0',
      syslog: [`udp://127.0.0.1:${await freePort()}`], 'syslog-project': 'disk',
    }, {});
    server = await startServer(config, { authenticate: allowAll, logger: log.logger });
  });
  // Each test starts with the space free, even when an earlier one failed before freeing it (no cascade).
  beforeEach(() => small.release());
  afterAll(async () => {
    small.release();
    await server?.close().catch(() => undefined);
    small.unmount();
  });

  const post = (i: number, withId: boolean): Promise<Response> => fetch(`${server.url}/ingest/v1/disk/access-logs?format=combined_host`, {
    method: 'POST', body: batchBody(i), headers: { 'content-type': 'text/plain', ...(withId ? { 'x-batch-id': `disk-${i}` } : {}) },
  });

  /** Requests stored per batch domain, as the stats API answers (10 domains per query). */
  async function storedPerBatch(): Promise<number[]> {
    const out: number[] = [];
    for (let from = 0; from < BATCHES; from += 10) {
      const ds = Array.from({ length: 10 }, (_, k) => domain(from + k));
      for (const d of ds) {
        const res = await fetch(`${server.url}/v2/disk/stats/httpcodes?play_domains=${d}`);
        expect(res.status).toBe(200);
        const body = (await res.json()) as { data_series: Array<{ http_codes: Array<{ count: number }> }> };
        out.push(body.data_series.reduce((n, s) => n + s.http_codes.reduce((m, c) => m + c.count, 0), 0));
      }
    }
    return out;
  }

  it('answers 503 while full, never counts what it refused, counts retries once, reports degraded then ok', async () => {
    small.fill(256 * 1024);
    const acked = new Set<number>();
    const refused = new Set<number>();
    const withId = (i: number): boolean => i % 2 === 0;
    let degradedSeen = false;
    const syslogPort = server.syslog?.bound[0]?.port ?? 0;
    const udp = createSocket('udp4');
    let syslogSent = 0;
    const sendSyslog = async (n: number): Promise<void> => {
      for (let k = 0; k < n; k++, syslogSent++) {
        const line = accessLine(Date.now() - 60_000, { host: 'syslog.disk.example', status: 200 + (k % 3) });
        await new Promise<void>((r) => udp.send(`<190>Nov 23 10:00:00 edge nginx: ${line}`, syslogPort, '127.0.0.1', () => r()));
      }
    };
    for (let i = 0; i < FULL_UNTIL; i++) {
      const res = await post(i, withId(i));
      // Syslog keeps arriving while the disk is full. Sent after the batch, not before: else on a busy
      // machine the syslog flush (1 s) came before the first batch and took the space left for it (0 acked).
      if (i % 4 === 0) await sendSyslog(25);
      if (res.status === 200) {
        expect(await res.json()).toMatchObject({ accepted: LINES, dropped: {} });
        acked.add(i);
        continue;
      }
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
      expect(await res.json()).toEqual({
        error_code: 'LIVE.100011005',
        error_msg: 'Service unavailable: the store cannot accept writes (disk_full); nothing of this request was counted, retry later',
      });
      refused.add(i);
      const health = await fetch(`${server.url}/healthz`);
      if (health.status === 503) {
        degradedSeen = true;
        expect(await health.json()).toMatchObject({ status: 'degraded', reason: 'disk_full', store: 'sqlite' });
      }
    }
    expect(acked.size).toBeGreaterThan(0);
    expect(refused.size).toBeGreaterThan(20);
    expect(degradedSeen).toBe(true);
    // Queries keep answering from what is stored: every acknowledged batch, nothing refused.
    let stored = await storedPerBatch();
    for (let i = 0; i < FULL_UNTIL; i++) expect(stored[i], `batch ${i}`).toBe(acked.has(i) ? LINES : 0);

    small.release();
    // Health comes back by itself (the aggregator probes the store while degraded).
    expect(await waitFor(async () => (await fetch(`${server.url}/healthz`)).status === 200, 10_000, 100)).toBe(true);
    expect(await (await fetch(`${server.url}/healthz`)).json()).toMatchObject({ status: 'ok' });
    for (let i = FULL_UNTIL; i < BATCHES; i++) {
      const res = await post(i, withId(i));
      expect(res.status).toBe(200);
      acked.add(i);
    }
    // The shipper retries what was refused: with and without X-Batch-Id, each counted once.
    for (const i of refused) {
      const res = await post(i, withId(i));
      expect(res.status).toBe(200);
      expect(await res.json()).not.toHaveProperty('duplicate');
    }
    // A retry of something acknowledged (answer lost, say) with its X-Batch-Id is not counted again.
    let duplicates = 0;
    for (const i of [...acked].filter(withId).slice(0, 5)) {
      const res = await post(i, true);
      expect(await res.json()).toMatchObject({ duplicate: true });
      duplicates++;
    }
    stored = await storedPerBatch();
    expect(stored).toEqual(new Array<number>(BATCHES).fill(LINES));
    // Syslog kept what arrived during the outage in its bounded buffer: all of it counted, once.
    udp.close();
    const syslogStored = async (): Promise<number> => {
      const res = await fetch(`${server.url}/v2/disk/stats/httpcodes?play_domains=syslog.disk.example`);
      const body = (await res.json()) as { data_series: Array<{ http_codes: Array<{ count: number }> }> };
      return body.data_series.reduce((n, x) => n + x.http_codes.reduce((m, c) => m + c.count, 0), 0);
    };
    expect(await waitFor(async () => (await syslogStored()) === syslogSent, 10_000, 100)).toBe(true);
    expect(server.syslog?.stats()).toMatchObject({ lines: syslogSent, accepted: syslogSent, dropped: {}, buffered: 0 });
    expect(stored.reduce((a, b) => a + b, 0)).toBe(BATCHES * LINES);

    // The file itself, read by another connection, at two aggregation levels: the same counts.
    const fromFile = storedPerDomain(join(small.dir, 'data'), 'disk', Array.from({ length: BATCHES }, (_, i) => domain(i)));
    for (let i = 0; i < BATCHES; i++) expect(fromFile.get(domain(i)), `batch ${i} in the file`).toEqual({ total: LINES, byGeo: LINES });

    // Logged once when it began and once when it ended; no error per request.
    const lines = log.lines();
    expect(lines.filter((l) => l.msg === 'store unavailable: writes fail; new data is refused until a write succeeds')).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'store available again: writes succeed')).toHaveLength(1);
    expect(lines.filter((l) => l.level === 50)).toHaveLength(1); // the one error line of the outage
    expect(lines.filter((l) => l.msg === 'request failed' || l.msg === 'flush failed; will retry')).toHaveLength(0);

    recordFault({
      fault: 'disk full (SQLite data dir on a 12 MiB tmpfs, filled)',
      behaviour: `503 + Retry-After for ${refused.size} of ${FULL_UNTIL} batches while full; /healthz degraded (disk_full), ok by itself after space was freed; queries answered throughout; one log line per outage`,
      acknowledged: (acked.size + refused.size) * LINES, refused: refused.size * LINES, lost: 0,
      doubleCounted: stored.reduce((a, b) => a + b, 0) - BATCHES * LINES,
      details: { batches: BATCHES, linesPerBatch: LINES, retriedWithId: [...refused].filter(withId).length, retriedWithoutId: [...refused].filter((i) => !withId(i)).length, duplicateRetries: duplicates },
    });
  }, 120_000);

  it('batch ingest exits 1 with a clear message; the same command again counts every line once', () => onOwnSmallFs(batchIngestCase), 120_000);

  async function batchIngestCase(small: SmallFs): Promise<void> {
    const logs = tempDir('disk-cli');
    const data = join(small.dir, 'data-cli');
    mkdirSync(data);
    const at = pinnedTimes();
    // Many domains per big file, so its counts need far more space than is left.
    const file = (name: string, n: number, host: string, domains = 1): string => {
      const path = join(logs, name);
      const lines = Array.from({ length: n }, (_, j) => accessLine(at(j), {
        host: domains > 1 ? `d${j % domains}.${host}` : host, status: 200 + (j % 7), ip: `1.${j % 250}.${j % 13}.9`,
      }));
      writeFileSync(path, lines.join('\n') + '\n');
      return path;
    };
    const small1 = file('a.log', 300, 'a.cli.example');
    const big = file('b.log', 40_000, 'b.cli.example', 2000);
    const big2 = file('c.log', 20_000, 'c.cli.example', 1000);
    const args = ['ingest', '--project', 'cli', '--format', 'combined_host', '--data', data, '--json', small1, big, big2];
    // The store exists before the disk fills (as it would on a running system).
    expect((await runCli(['ingest', '--project', 'init', '--format', 'combined_host', '--data', data, file('init.log', 1, 'init.example')])).code).toBe(0);
    // Room for a.log's one commit in 16 KiB pages (its WAL frames), not for b.log's.
    small.fill(512 * 1024);
    const failed = await runCli(args);
    expectExit(failed, 1, 'first run');
    expect(failed.stderr).toContain('livestats ingest: the store refused the write (disk_full): database or disk is full');
    expect(failed.stderr).toContain('Run the same command again: files already counted are skipped, so every line is counted exactly once.');
    expect(failed.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(storedTotal(data, 'cli')).toBe(300); // a.log committed whole, b.log not at all
    small.release();
    const again = await runCli(args);
    // A failing rerun shows why (its stderr), not only its exit code.
    expectExit(again, 0, 'rerun');
    expect(again.stderr).toContain(`${small1}: already counted by an earlier run`);
    expect(JSON.parse(again.stdout)).toEqual({ lines: 60_000, accepted: 60_000, dropped: {} });
    expect(storedTotal(data, 'cli')).toBe(60_300);
    recordFault({
      fault: 'disk full during batch `livestats ingest` (3 files)',
      behaviour: 'exit 1 with "the store refused the write (disk_full)" and re-run advice; each file commits whole; the re-run skipped the counted file and counted the rest',
      acknowledged: 300, refused: 60_000, lost: 60_300 - storedTotal(data, 'cli'), doubleCounted: 0,
    });
  }

  it('--follow stops advancing while the disk is full and resumes from the committed offset: exact total', () => onOwnSmallFs(followCase), 120_000);

  async function followCase(small: SmallFs): Promise<void> {
    const logs = tempDir('disk-follow');
    const data = join(small.dir, 'data-follow');
    const log = join(logs, 'access.log');
    writeFileSync(log, '');
    const at = pinnedTimes();
    const lines = (n: number, from: number): string => Array.from({ length: n }, (_, j) =>
      accessLine(at(from + j), { host: `f${(from + j) % 200}.follow.example`, status: 200 + (j % 7), ip: `1.${j % 250}.${j % 13}.9` }) + '\n').join('');
    const child = startCli(['ingest', '--follow', '--project', 'fw', '--format', 'combined_host', '--data', data,
      '--flush-interval-ms', '50', '--poll-ms', '20', log]);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      appendFileSync(log, lines(1000, 0));
      expect(await waitFor(() => storedTotal(data, 'fw') === 1000, 10_000)).toBe(true);
      small.fill(64 * 1024);
      let written = 1000;
      for (let k = 0; k < 10; k++, written += 5000) {
        appendFileSync(log, lines(5000, written));
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await waitFor(() => stderr.includes('store unavailable: writes fail'), 10_000)).toBe(true);
      const during = storedTotal(data, 'fw');
      expect(during).toBeLessThan(written);
      small.release();
      expect(await waitFor(() => storedTotal(data, 'fw') === written, 20_000)).toBe(true);
      await new Promise((r) => setTimeout(r, 300)); // nothing more may arrive
      expect(storedTotal(data, 'fw')).toBe(written);
      expect(stderr.match(/store unavailable: writes fail/g)).toHaveLength(1);
      expect(stderr).toContain('store available again');
      recordFault({
        fault: 'disk full under `livestats ingest --follow`',
        behaviour: 'stopped advancing (offset not committed), resumed from the committed checkpoint once space was freed; one log line per outage',
        acknowledged: written, refused: written - during, lost: 0, doubleCounted: storedTotal(data, 'fw') - written,
      });
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }
});
