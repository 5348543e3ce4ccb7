import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { accessLine, runCli, storedTotal, tempDir } from './ingest-helpers.js';
import { NO_REQUEST_TIME_WARNING } from '../src/ingest/audience/notes.js';

const dir = tempDir('cli');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('livestats ingest (batch)', () => {
  it('reads plain, .gz and stdin; --json prints the summary; bad lines are counted, not fatal', async () => {
    const t = Date.now() - 120_000;
    const plain = join(dir, 'a.log');
    writeFileSync(plain, [accessLine(t), accessLine(t, { status: 404 }), '\u0000\u0001binary\u00ff', accessLine(t, { status: 999 })].join('\n') + '\n');
    const gz = join(dir, 'b.log.gz');
    writeFileSync(gz, gzipSync([accessLine(t, { host: 'gz.example.com' }), accessLine(t + 86_400_000)].join('\n')));
    const data = join(dir, 'data');
    const res = await runCli(['ingest', '--project', 'c1', '--format', 'combined_host', '--data', data, '--json', plain, gz, '-'],
      accessLine(t, { host: 'stdin.example.com' }) + '\n');
    expect(res.code).toBe(0);
    // Each reason is shown with its first line; 127.0.0.1 everywhere is the private-clients warning.
    expect(res.stderr.split('\n').filter((l) => !l.includes('every counted client address was private'))).toEqual([
      'livestats ingest: dropped 1 line as parse, e.g.: \\x00\\x01binary\u00ff', // control characters escaped
      `livestats ingest: dropped 1 line as bad_status, e.g.: ${accessLine(t, { status: 999 })}`,
      `livestats ingest: dropped 1 line as future, e.g.: ${accessLine(t + 86_400_000)}`,
      '',
    ]);
    expect(JSON.parse(res.stdout)).toMatchObject({ lines: 7, accepted: 4, dropped: { parse: 1, bad_status: 1, future: 1 } });
    expect(storedTotal(data, 'c1')).toBe(4);
  });

  it('warns once that FLV viewer counts need $request_time (stderr and --json), and counts such lines by reason', async () => {
    const t = Date.now() - 120_000;
    const flv = join(dir, 'flv.log');
    writeFileSync(flv, Array.from({ length: 30 }, (_, i) => accessLine(t, { path: `/live/s${i % 3}.flv`, ip: '198.51.100.7' })).join('\n') + '\n');
    const flv2 = join(dir, 'flv2.log');
    writeFileSync(flv2, accessLine(t, { path: '/live/s.flv', ip: '198.51.100.8' }) + '\n');
    const res = await runCli(['ingest', '--project', 'rt', '--format', 'combined_host', '--data', join(dir, 'data-rt'), '--json', flv, flv2]);
    expect(res.code).toBe(0);
    expect(res.stderr.split(NO_REQUEST_TIME_WARNING).length - 1).toBe(1);
    // A warning like the others: on stderr as "warning: ..." and in --json's warnings.
    expect(res.stderr).toContain(`livestats ingest: warning: ${NO_REQUEST_TIME_WARNING}\n`);
    expect(JSON.parse(res.stdout)).toEqual({ lines: 31, accepted: 31, dropped: {}, audience: { no_request_time: 31 }, warnings: [NO_REQUEST_TIME_WARNING] });
    // With $request_time logged: nothing to say.
    const withRt = join(dir, 'rt.log');
    writeFileSync(withRt, `1.2.3.4 ${(t / 1000).toFixed(3)} 12.5 200 100 play.example.com "GET /live/s.flv HTTP/1.1"\n`);
    const ok = await runCli(['ingest', '--project', 'rt', '--format', "'$remote_addr $msec $request_time $status $bytes_sent $host \"$request\"'",
      '--data', join(dir, 'data-rt'), '--json', withRt]);
    expect(ok.stderr).toBe('');
    expect(JSON.parse(ok.stdout)).toEqual({ lines: 1, accepted: 1, dropped: {} });
  });

  it('parses with worker threads and gives the same counts', async () => {
    const t = Date.now() - 120_000;
    const file = join(dir, 'w.log');
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) lines.push(accessLine(t - (i % 600) * 1000, { status: 200 + (i % 3), ip: `1.${i % 250}.${i % 7}.9` }));
    writeFileSync(file, lines.join('\n') + '\n');
    const data = join(dir, 'data-w');
    const res = await runCli(['ingest', '--project', 'w', '--format', 'combined_host', '--data', data, '--json', '--workers', '2', file]);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ lines: 20_000, accepted: 20_000, dropped: {} });
    expect(storedTotal(data, 'w')).toBe(20_000);
  });

  it('refuses bad usage with exit code 2 and a clear message', async () => {
    const r1 = await runCli(['ingest', '--format', 'combined', 'x.log']);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/--project is required/);
    const r2 = await runCli(['ingest', '--project', 'p', '--format', 'nosuch', join(dir, 'a.log')]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/unknown format "nosuch"/);
    const r3 = await runCli(['ingest', '--project', 'p', '--format', 'combined', join(dir, 'missing.log')]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/no such file/);
    const r4 = await runCli(['ingest', '--project', 'p', '--format', 'json', '--field', 'colour=x', join(dir, 'a.log')]);
    expect(r4.code).toBe(2);
    expect(r4.stderr).toMatch(/--field "colour=x"/);
  });

  it('serve refuses bad syslog settings before listening', async () => {
    const data = join(dir, 'data-serve');
    const r1 = await runCli(['serve', '--port', '0', '--data', data, '--log-level', 'silent', '--syslog', 'http://x:1']);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/expected udp:\/\/HOST:PORT or tcp:\/\/HOST:PORT/);
    const r2 = await runCli(['serve', '--port', '0', '--data', data, '--log-level', 'silent', '--syslog', 'udp://127.0.0.1:0',
      '--syslog-format', "'$remote_addr$status'"]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/nothing between them/);
    expect(r2.stdout).not.toMatch(/listening/);
  });
});
