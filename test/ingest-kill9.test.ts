import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { accessLine, startCli, storedTotal, storedTraffic, tempDir, waitFor } from './ingest-helpers.js';
import { SqliteStore } from '../src/store/sqlite/store.js';

const dir = tempDir('kill9');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

it('kill -9 at random moments while a writer appends: restart after restart, exact totals in every cube', async () => {
  const log = join(dir, 'access.log');
  const data = join(dir, 'data');
  writeFileSync(log, '');
  const args = ['ingest', '--follow', '--project', 'k9', '--format', 'combined_host', '--data', data,
    '--flush-interval-ms', '30', '--poll-ms', '15', log];
  let seed = 12345;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  let written = 0;
  let streamLines = 0;
  // The audience cube's expected figures: FLV lines per minute (no $request_time in combined_host: each
  // is a viewer of its end minute), HLS (IP, minute) pairs, and the client IPs of stream lines per day.
  const flvPerMinute = new Map<number, number>();
  const hlsViewers = new Set<string>();
  const usersPerDay = new Map<number, Set<string>>();
  let writing = true;
  let kills = 0;
  const writer = (async () => {
    const t0 = Date.now();
    // 4 s and at least 5 kills: on a busy machine 4 s may hold fewer kill-restart cycles.
    while (Date.now() - t0 < 4000 || kills < 5) {
      const n = 1 + Math.floor(rand() * 200);
      let chunk = '';
      for (let i = 0; i < n; i++) {
        const t = Date.now() - 30_000;
        const minute = Math.floor(t / 60_000);
        const day = Math.floor(t / 86_400_000);
        if (i % 4 === 0) {
          chunk += accessLine(t, { status: 200 + (i % 5), path: `/w/${written + i}` }) + '\n';
          continue;
        }
        const hls = i % 4 === 1;
        const ip = hls ? `10.0.0.${(written + i) % 40}` : '127.0.0.1';
        chunk += accessLine(t, { status: 200 + (i % 5), ip, path: hls ? `/live/h.m3u8?n=${written + i}` : `/live/s${i % 3}.flv?n=${written + i}` }) + '\n';
        if (hls) hlsViewers.add(`${ip}|${minute}`);
        else flvPerMinute.set(minute, (flvPerMinute.get(minute) ?? 0) + 1);
        let users = usersPerDay.get(day);
        if (!users) usersPerDay.set(day, (users = new Set()));
        users.add(ip);
      }
      appendFileSync(log, chunk);
      streamLines += n - Math.ceil(n / 4);
      written += n;
      await new Promise((r) => setTimeout(r, 5 + rand() * 20));
    }
    writing = false;
  })();
  let child = startCli(args);
  while (writing) {
    await new Promise((r) => setTimeout(r, 80 + rand() * 300));
    child.kill('SIGKILL');
    await exited(child);
    kills++;
    child = startCli(args);
  }
  await writer;
  const done = await waitFor(() => storedTotal(data, 'k9') >= written, 20_000, 100);
  await new Promise((r) => setTimeout(r, 300)); // nothing more may arrive
  child.kill('SIGTERM');
  await exited(child);
  expect(done).toBe(true);
  expect(kills).toBeGreaterThanOrEqual(5);
  expect(storedTotal(data, 'k9')).toBe(written);
  // The traffic cube, written in the same transactions: exact too (every line sends 123 body bytes).
  expect(storedTraffic(data, 'k9')).toEqual({ requests: written, bytes: 123 * written, streamRequests: streamLines });
  // The audience cube and its exact sets, written in the same transactions: viewers per minute, users per day exact.
  const store = new SqliteStore(join(data, 'livestats.db'));
  await store.init();
  try {
    const minutes = [...flvPerMinute.keys(), ...[...hlsViewers].map((v) => Number(v.split('|')[1]))];
    const first = Math.min(...minutes);
    const last = Math.max(...minutes);
    const want = new Array<number>(last - first + 1).fill(0);
    const add = (m: number, n: number): void => { want[m - first] = (want[m - first] ?? 0) + n; };
    for (const [m, n] of flvPerMinute) add(m, n);
    for (const v of hlsViewers) add(Number(v.split('|')[1]), 1);
    const series = await store.usersSeries({
      project: 'k9', domain: 'play.example.com', app: undefined, stream: undefined, protocol: undefined, regions: [], isps: [],
      slotMs: 60_000, from: first * 60_000, to: (last + 1) * 60_000,
    });
    expect([...series]).toEqual(want);
    let flow = 0;
    let requests = 0;
    let playSeconds = 0;
    for (const [day, users] of usersPerDay) {
      const p = await store.streamPortrait({ project: 'k9', domain: 'play.example.com', stream: undefined, day: day * 86_400_000 });
      expect(p.users).toBe(users.size);
      flow += p.flow;
      requests += p.requests;
      playSeconds += p.playSeconds;
    }
    expect({ flow, requests, playSeconds }).toEqual({ flow: 123 * streamLines, requests: streamLines, playSeconds: 60 * hlsViewers.size });
  } finally {
    await store.close();
  }
}, 120_000);
