import { describe, expect, it } from 'vitest';
import { forEachCell, type CellBatch } from './cells.js';
import { createLineParser } from './formats/presets.js';
import { DROP_REASONS, MAX_LINE_BYTES } from './formats/types.js';
import { packGeo, ispOfCode, regionOfCode } from './geo/names.js';
import { parseGeoOverrides } from './geo/overrides.js';
import { GeoResolver } from './geo/resolver.js';
import { LineProcessor, statusCode } from './processor.js';

const NOW = Date.UTC(2026, 0, 10, 12, 0, 0);
const geo = GeoResolver.create(parseGeoOverrides('127.0.0.0/8,SH,CUCC\n10.0.0.0/8,BJ,CMCC'));

function processor(format = 'combined_host'): { p: LineProcessor; cells: CellBatch[] } {
  const cells: CellBatch[] = [];
  const p = new LineProcessor({ parser: createLineParser(format), geo, retentionDays: 8, now: () => NOW, sink: (c) => cells.push(c) });
  return { p, cells };
}

const tl = (ms: number): string => {
  const d = new Date(ms);
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${p2(d.getUTCDate())}/${mon}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
};
const line = (ip: string, t: number, status: string, host: string, xff = ''): string =>
  `${ip} - - [${tl(t)}] "GET /x HTTP/1.1" ${status} 10 "-" "${xff}" ${host}`;

function cellsOf(batches: CellBatch[]): Array<{ domain: string; minute: number; region: string; isp: string; code: number; n: number }> {
  const out: Array<{ domain: string; minute: number; region: string; isp: string; code: number; n: number }> = [];
  for (const b of batches) {
    forEachCell(b, (domain, minute, g, code, n) => out.push({ domain, minute, region: regionOfCode(g), isp: ispOfCode(g), code, n }));
  }
  return out;
}

describe('LineProcessor', () => {
  // Found by `npm run fuzz` (preset:combined_host): nginx's default escaping writes an IDN host's
  // UTF-8 bytes as \xHH; through the HTTP intake and syslog (UTF-8 input) it was bad_domain.
  it('counts an IDN host written as \\xHH escapes under its punycode domain, with UTF-8 and latin1 input', () => {
    const escaped = '\\xE4\\xBE\\x8B\\xE5\\xAD\\x90.com';
    for (const latin1Input of [false, true]) {
      const cells: CellBatch[] = [];
      const p = new LineProcessor({ parser: createLineParser('combined_host'), geo, retentionDays: 8, now: () => NOW, latin1Input, sink: (c) => cells.push(c) });
      expect(p.process(line('127.0.0.1', NOW - 60_000, '200', escaped))).toBeUndefined();
      expect(p.process(line('127.0.0.1', NOW - 60_000, '200', 'B\\xC3\\xBCcher.example'))).toBeUndefined();
      p.flushCells();
      expect(cellsOf(cells).map((c) => c.domain).sort()).toEqual(['xn--bcher-kva.example', 'xn--fsqu00a.com']);
      // The host of an absolute request line whose path holds an invalid byte is decided alike too.
      const c2: CellBatch[] = [];
      const q = new LineProcessor({ parser: createLineParser('combined'), geo, retentionDays: 8, now: () => NOW, latin1Input, sink: (c) => c2.push(c) });
      expect(q.process(`1.2.3.4 - - [${tl(NOW - 60_000)}] "GET http://B\\xC3\\x9CCHER.IO./\\xE0 HTTP/1.1" 200 1 "-" "-"`)).toBeUndefined();
      q.flushCells();
      expect(cellsOf(c2).map((c) => c.domain)).toEqual(['xn--bcher-kva.io']);
    }
  });

  it('counts a good line into its (domain, minute, region, isp, code) cell', () => {
    const { p, cells } = processor();
    expect(p.process(line('127.0.0.1', NOW - 90_000, '200', 'Play.Example.com:443'))).toBeUndefined();
    expect(p.process(line('127.0.0.1', NOW - 95_000, '200', 'play.example.com'))).toBeUndefined();
    p.flushCells();
    expect(cellsOf(cells)).toEqual([{ domain: 'play.example.com', minute: NOW - 120_000, region: 'SH', isp: 'CUCC', code: 200, n: 2 }]);
    expect(p.takeStats()).toEqual({ lines: 2, accepted: 2, dropped: {} });
  });

  it('drops by reason and never throws', () => {
    const { p } = processor();
    expect(p.process('garbage')).toBe('parse');
    expect(p.process(line('1.2.3.4', NOW, '600', 'a.com'))).toBe('bad_status');
    expect(p.process(line('1.2.3.4', NOW, '099', 'a.com'))).toBe('bad_status');
    expect(p.process(line('1.2.3.4', NOW, '-', 'a.com'))).toBe('bad_status');
    expect(p.process(line('1.2.3.4', NOW - 9 * 86_400_000, '200', 'a.com'))).toBe('too_old');
    expect(p.process(line('1.2.3.4', NOW + 6 * 60_000, '200', 'a.com'))).toBe('future');
    expect(p.process(line('1.2.3.4', NOW, '200', 'bad_host!'))).toBe('bad_domain');
    expect(p.process(line('1.2.3.4', NOW, '200', '-'))).toBe('bad_domain');
    expect(p.process(line('1.2.3.4', NOW, '200', 'a.com').replace('Jan/2026', 'Foo/2026'))).toBe('bad_time');
    expect(p.stats.dropped).toEqual({ parse: 1, bad_status: 3, too_old: 1, future: 1, bad_domain: 2, bad_time: 1 });
  });

  it('takes the first public X-Forwarded-For address, else $remote_addr', () => {
    const { p, cells } = processor("'$remote_addr \"$http_x_forwarded_for\" $status $host $msec'");
    const t = (NOW / 1000).toFixed(3);
    p.process(`10.1.1.1 "192.168.0.9, 127.0.0.5, 202.96.128.86:5555, 8.8.8.8" 200 a.com ${t}`);
    p.process(`10.1.1.1 "192.168.0.9, unknown" 200 a.com ${t}`);
    p.process(`::1 "2409:8000::1" 200 a.com ${t}`);
    p.flushCells();
    // 10.1.1.1 -> override BJ/CMCC; 2409:8000::1 -> ip2region IPv6 Beijing China Mobile.
    const got = cellsOf(cells).map((c) => `${c.region}/${c.isp} x${c.n}`).sort();
    expect(got).toEqual(['BJ/CMCC x2', 'GD/CTCC x1']);
  });

  it('uses the host of an absolute $request when no host variable is logged', () => {
    const { p, cells } = processor('combined');
    const l = `127.0.0.1 - - [${tl(NOW)}] "GET https://user@Abs.Example.com:8443/a?b HTTP/1.1" 200 1 "-" "-"`;
    expect(p.process(l)).toBeUndefined();
    expect(p.process(l.replace('https://user@Abs.Example.com:8443', ''))).toBe('bad_domain');
    p.flushCells();
    expect(cellsOf(cells)[0]?.domain).toBe('abs.example.com');
  });

  it('gives syslog/HTTP lines without a time variable the receive time', () => {
    const { p } = processor("'$status $host'");
    expect(p.process('200 a.com')).toBe('bad_time');
    p.fallbackTime = NOW;
    expect(p.process('200 a.com')).toBeUndefined();
  });

  it('byte input decoded latin1 (fast path) still reads UTF-8 host names', () => {
    const cells: CellBatch[] = [];
    const p = new LineProcessor({
      parser: createLineParser("escape=none '$status $host $msec'"), geo, retentionDays: 8, now: () => NOW,
      sink: (c) => cells.push(c), latin1Input: true,
    });
    const bytes = Buffer.from(`200 Bücher.example ${(NOW / 1000).toFixed(3)}\n`, 'utf8');
    expect(p.process(p.text(bytes, 0, bytes.length - 1))).toBeUndefined();
    p.flushCells();
    expect(cellsOf(cells)[0]?.domain).toBe('xn--bcher-kva.example');
  });

  it('status codes: exactly three digits, 100..599', () => {
    expect([statusCode('100'), statusCode('599'), statusCode('600'), statusCode('20'), statusCode('2x0')]).toEqual([100, 599, -1, -1, -1]);
  });

  it('survives 100k random and mutated lines without throwing, every line accounted for', () => {
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const good = line('1.2.3.4', NOW - 1000, '200', 'a.com', '5.6.7.8, 10.0.0.1');
    const alphabet = ' "[]-\\x22:/.,0123456789abcdefABCDEF\u0000\u00ff\ufffd\u4e2d{}\n\r\t$';
    const formats = ['combined_host', 'combined', 'nginx_json', 'json', "'$remote_addr [$time_iso8601] $status \"$http_host\" $upstream_addr'"];
    let total = 0;
    for (const f of formats) {
      const { p } = processor(f);
      const n = f === 'combined_host' ? 40_000 : 15_000;
      for (let i = 0; i < n; i++) {
        let s: string;
        const mode = rand();
        if (mode < 0.4) {
          const chars = [...good];
          const edits = 1 + Math.floor(rand() * 4);
          for (let e = 0; e < edits; e++) chars[Math.floor(rand() * chars.length)] = alphabet[Math.floor(rand() * alphabet.length)] as string;
          s = chars.join('');
        } else if (mode < 0.6) {
          s = good.slice(0, Math.floor(rand() * good.length));
        } else {
          const len = Math.floor(rand() * 300);
          s = '';
          for (let j = 0; j < len; j++) s += String.fromCharCode(Math.floor(rand() * (rand() < 0.9 ? 128 : 65_536)));
        }
        const r = p.process(s);
        if (r !== undefined) expect(DROP_REASONS).toContain(r);
      }
      p.flushCells();
      const st = p.takeStats();
      expect(st.lines).toBe(n);
      expect(st.accepted + Object.values(st.dropped).reduce((a, b) => a + b, 0)).toBe(n);
      total += n;
    }
    expect(total).toBe(100_000);
  });

  it('packs geo codes losslessly', () => {
    expect(regionOfCode(packGeo('HK', 'CUCC'))).toBe('HK');
    expect(ispOfCode(packGeo('HK', 'CUCC'))).toBe('CUCC');
  });
});

describe('bytes sent', () => {
  it('takes $bytes_sent, else $body_bytes_sent, else 0, summed per cell (also for codes beyond the dense table)', () => {
    const both = processor(`'$remote_addr [$time_local] $status $bytes_sent $body_bytes_sent $host'`);
    both.p.process(`127.0.0.1 [${tl(NOW - 60_000)}] 200 1500 1000 a.com`);
    both.p.process(`127.0.0.1 [${tl(NOW - 60_000)}] 200 - 700 a.com`);
    both.p.process(`127.0.0.1 [${tl(NOW - 60_000)}] 200 - - a.com`);
    both.p.process(`127.0.0.1 [${tl(NOW - 60_000)}] 200 oops - a.com`);
    // 17 distinct codes: the 17th goes to the hash table for rare codes, with its bytes.
    for (let c = 0; c < 17; c++) both.p.process(`127.0.0.1 [${tl(NOW - 60_000)}] ${300 + c} 9 - a.com`);
    both.p.flushCells();
    const got = new Map<number, [number, number]>();
    for (const b of both.cells) forEachCell(b, (_d, _m, _g, code, n, bytes) => got.set(code, [n, bytes]));
    expect(got.get(200)).toEqual([4, 2200]);
    expect(got.get(316)).toEqual([1, 9]);
    expect([...got.values()].reduce((s, [, b]) => s + b, 0)).toBe(2200 + 17 * 9);
  });

  it('combined_host logs only $body_bytes_sent, which is used', () => {
    const { p, cells } = processor();
    p.process(line('127.0.0.1', NOW - 60_000, '200', 'a.com'));
    p.flushCells();
    const bytes: number[] = [];
    for (const b of cells) forEachCell(b, (_d, _m, _g, _c, _n, by) => bytes.push(by));
    expect(bytes).toEqual([10]);
  });

  it('drops a line claiming more than MAX_LINE_BYTES as bad_bytes; up to it is counted as logged', () => {
    const { p, cells } = processor(`'$remote_addr [$time_local] $status $bytes_sent $host'`);
    const at = `127.0.0.1 [${tl(NOW - 60_000)}] 200`;
    p.process(`${at} ${MAX_LINE_BYTES} a.com`);
    expect(p.process(`${at} ${MAX_LINE_BYTES + 1} a.com`)).toBe('bad_bytes');
    expect(p.process(`${at} ${Number.MAX_SAFE_INTEGER} a.com`)).toBe('bad_bytes');
    expect(p.process(`${at} 99999999999999999999999 a.com`)).toBe('bad_bytes');
    expect(p.process(`${at} 1e300 a.com`)).toBe('bad_bytes');
    p.flushCells();
    const got: Array<[number, number]> = [];
    for (const b of cells) forEachCell(b, (_d, _m, _g, _c, n, bytes) => got.push([n, bytes]));
    expect(got).toEqual([[1, MAX_LINE_BYTES]]);
    expect(p.stats.dropped).toEqual({ bad_bytes: 4 });
  });

  it('a JSON \\ud800 escape never reaches a name as an unpaired surrogate (no store could keep it): it reads as U+FFFD', () => {
    const cells: CellBatch[] = [];
    const p = new LineProcessor({ parser: createLineParser('json'), geo, retentionDays: 8, now: () => NOW, sink: (c) => cells.push(c) });
    p.process(`{"ip":"127.0.0.1","time":${(NOW - 60_000) / 1000},"domain":"a.com","status":200,"uri":"/live/\\ud800x.flv","bytes":5}`);
    const nginx = new LineProcessor({ parser: createLineParser('nginx_json'), geo, retentionDays: 8, now: () => NOW, sink: (c) => cells.push(c) });
    const iso = new Date(NOW - 60_000).toISOString().replace('.000Z', '+00:00');
    expect(nginx.process(`{"time":"${iso}","remote_addr":"127.0.0.1","x_forwarded_for":"","host":"a.com","request":"GET /live/\\udc00y.flv HTTP/1.1",` +
      '"status":200,"body_bytes_sent":5,"request_time":0.1,"http_referer":"","http_user_agent":""}')).toBeUndefined();
    p.flushCells();
    nginx.flushCells();
    const streams = cells.flatMap((c) => c.traffic?.streams ?? []);
    expect(streams.sort()).toEqual(['\ufffdx', '\ufffdy']);
  });
});
