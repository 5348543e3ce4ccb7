import { expect, it } from 'vitest';
import { audienceIp, type AudienceCells } from '../../store/audience.js';
import { addSessionViewers, blockStart } from '../../store/audience-flv.js';
import { createLineParser } from '../formats/presets.js';
import { GeoResolver } from '../geo/resolver.js';
import { LineProcessor } from '../processor.js';

const D = Date.UTC(2026, 10, 20);
const geo = GeoResolver.create();

function run(format: string, lines: string[], fields?: Record<string, string>): { cells: AudienceCells[]; p: LineProcessor } {
  const cells: AudienceCells[] = [];
  const p = new LineProcessor({
    parser: createLineParser(format, { fields }), geo, retentionDays: 8, now: () => D + 86_400_000,
    sink: (c) => { if (c.audience) cells.push(c.audience); },
  });
  for (const l of lines) expect(p.process(l)).toBeUndefined();
  p.flushCells();
  return { cells, p };
}

/** The first (here: only) batch of cells a run drained. */
const first = (r: { cells: AudienceCells[] }): AudienceCells => r.cells[0] as AudienceCells;

/** (minute offset from D in minutes -> sessions open) of a drained batch's FLV cells (opens and closes prefix-summed per block). */
const sessions = (c: AudienceCells): Record<number, number> => {
  const at = new Map<number, [number, number]>();
  for (let i = 0; i < c.tuple.length; i++) {
    if (c.protocol[i] !== 0) continue;
    const m = (c.minute[i] as number) / 60_000;
    const x = at.get(m) ?? [0, 0];
    at.set(m, [x[0] + (c.opens?.[i] ?? 0), x[1] + (c.closes?.[i] ?? 0)]);
    expect(c.sessions[i]).toBe(0);
  }
  const out: Record<number, number> = {};
  if (at.size === 0) return out;
  const from = blockStart(Math.min(...at.keys()));
  const n = Math.max(...at.keys()) - from + 1;
  const opens = new Float64Array(n);
  const closes = new Float64Array(n);
  for (const [m, [o, x]] of at) {
    opens[m - from] = o;
    closes[m - from] = x;
  }
  const v = new Float64Array(n);
  addSessionViewers(v, opens, closes, from);
  v.forEach((x, i) => {
    if (x !== 0) out[from + i - D / 60_000] = x;
  });
  return out;
};

/** The format `line` writes. */
const FMT = "'$remote_addr [$time_local] $msec $request_time $status $bytes_sent $host \"$request\"'";
const line = (ip: string, msec: number, rt: string, uri = '/live/s.flv', local = '20/Nov/2026:00:00:00 +0000'): string =>
  `${ip} [${local}] ${(msec / 1000).toFixed(3)} ${rt} 200 10 a.com "GET ${uri} HTTP/1.1"`;

it('takes $msec as the end of an FLV session wherever it stands in the format, $time_local only without it', () => {
  // $time_local says 00:00:00 but $msec says 10:00:30.250: the session is [10:00:00.250, 10:00:30.250).
  // $msec before $time_local (which says 00:00:00): $msec still wins.
  const fmt = "'$remote_addr $msec [$time_local] $request_time $status $bytes_sent $host \"$request\"'";
  const r = run(fmt, [`1.2.3.4 ${((D + 10 * 3_600_000 + 30_250) / 1000).toFixed(3)} [20/Nov/2026:00:00:00 +0000] 30.000 200 10 a.com "GET /live/s.flv HTTP/1.1"`]);
  expect(sessions(first(r))).toEqual({ 600: 1 });
  expect([...first(r).playMs].reduce((a, b) => a + b, 0)).toBe(30_000);
});

it('costs the same per line for a session of hours: its cells grow with the blocks it spans, not its minutes', () => {
  // Ten 8-hour sessions ending at the same second, 12:00:30 to 20:00:30: 481 minutes each. Cells: the
  // opening minute (12:00), the 32 quarter-hour starts 12:15 to 20:00 (the sessions then open), the
  // closing minute (20:01, with the lines' bytes): 34, not 481 (the code before schema v12: one per minute).
  const lines = Array.from({ length: 10 }, (_, i) => line(`1.2.3.${i + 1}`, D + 20 * 3_600_000 + 30_000, String(8 * 3600)));
  const c = first(run(FMT, lines));
  const s = sessions(c);
  expect(Object.keys(s)).toHaveLength(481);
  expect(Object.values(s).every((v) => v === 10)).toBe(true);
  expect(c.tuple.length).toBe(34);
  expect([...c.playMs].reduce((a, b) => a + b, 0)).toBe(10 * 8 * 3600 * 1000);
});

it('counts notes by reason: no or bad $request_time, spans cut at the retention, no client IP', () => {
  const r = run(FMT, [
    line('1.2.3.4', D + 60_000, '-'),
    line('1.2.3.4', D + 60_000, '-5'),
    line('1.2.3.4', D + 60_000, 'abc'),
    line('1.2.3.4', D + 60_000, String(30 * 86_400)),
    line('not-an-ip', D + 60_000, '1', '/live/s.m3u8'),
  ]);
  expect(r.p.stats.audience).toEqual({ no_request_time: 2, bad_request_time: 1, span_cut: 1, no_client_ip: 1 });
  // Sessions without a usable $request_time cover their end minute (1); the cut one starts at the
  // retention's edge (now - 8 days) and ends at 00:01:00.000, so its last minute is 0.
  const c = first(r);
  expect(sessions(c)[1]).toBe(3);
  expect(sessions(c)[0]).toBe(1);
  expect(sessions(c)[-7 * 1440]).toBe(1);
  expect(c.hlsIp).toEqual([]);
});

it('JSON lines: --field request_time and msec', () => {
  const json = JSON.stringify({ ip: '1.2.3.4', t: 'x', when: (D + 90_500) / 1000, took: '90.5', status: 200, host: 'a.com', uri: '/live/s.flv' });
  const r = run('json', [json], { request_time: 'took', msec: 'when' });
  expect(sessions(first(r))).toEqual({ 0: 1, 1: 1 });
  expect(r.p.stats.audience).toBeUndefined();
  // Defaults: request_time and msec by their nginx names.
  const d = JSON.stringify({ remote_addr: '1.2.3.4', msec: (D + 150_000) / 1000, request_time: 30, status: 200, host: 'a.com', uri: '/live/s.flv' });
  expect(sessions(first(run('json', [d])))).toEqual({ 2: 1 });
});

it('HLS: one viewer per (IP, stream, minute) in a batch, every stream line a user of its day', () => {
  const c = first(run(FMT, [
    line('1.2.3.4', D + 1_000, '0.1', '/live/s.m3u8'),
    line('1.2.3.4', D + 2_000, '0.1', '/live/s/1.ts'),
    line('1.2.3.4', D + 61_000, '0.1', '/live/s-2.ts'),
    line('5.6.7.8', D + 3_000, '0.1', '/live/s.m3u8'),
    line('5.6.7.8', D + 4_000, '0.1', '/live/t.flv'),
    line('9.9.9.9', D + 4_000, '0.1', '/favicon.ico'),
  ]));
  expect(c.hlsIp.map((_, i) => `${audienceIp(c, 'hls', i)}@${((c.hlsMinute[i] as number) - D) / 60_000}`).sort()).toEqual(['1.2.3.4@0', '1.2.3.4@1', '5.6.7.8@0']);
  expect(c.userIp.map((_, i) => `${audienceIp(c, 'user', i)}:${c.streams[c.userTuple[i] as number]}`).sort()).toEqual(['1.2.3.4:s', '5.6.7.8:s', '5.6.7.8:t']);
});

it('keys canonical IPv4 viewers and users by their integer, any other text as itself (the stores see the same text)', () => {
  const c = first(run(FMT, [
    line('10.1.2.3', D + 1_000, '0.1', '/live/s.m3u8'),
    line('10.1.2.3', D + 2_000, '0.1', '/live/s/1.ts'),
    line('010.1.2.3', D + 3_000, '0.1', '/live/s.m3u8'),
    line('255.255.255.254', D + 4_000, '0.1', '/live/s.m3u8'),
    line('2001:db8::1', D + 5_000, '0.1', '/live/s.m3u8'),
  ]));
  expect(c.hlsIp.map((_, i) => audienceIp(c, 'hls', i)).sort()).toEqual(['010.1.2.3', '10.1.2.3', '2001:db8::1', '255.255.255.254']);
  expect(c.userIp.map((_, i) => audienceIp(c, 'user', i)).sort()).toEqual(['010.1.2.3', '10.1.2.3', '2001:db8::1', '255.255.255.254']);
  // The canonical ones travel as integers (no text kept), the others as text.
  expect([...(c.hlsV4 as Float64Array)].filter((v) => v >= 0).sort((a, b) => a - b)).toEqual([0x0a010203, 0xfffffffe]);
  expect(c.hlsIp.filter((t) => t !== '').sort()).toEqual(['010.1.2.3', '2001:db8::1']);
});
