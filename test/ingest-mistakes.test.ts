import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { accessLine, cliPath, runCli, storedTotal, tempDir, WAIT_FLOOR_MS } from './ingest-helpers.js';

// A new operator's mistakes (issue 22, item 2 and 18): each gets a loud, actionable answer and an exit
// code, asserted through the real CLI on real files.
const dir = tempDir('mistakes');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const t = Date.now() - 120_000;
/** 39 lines as the docs' combined_host writes them (public client addresses). */
const hostLines = Array.from({ length: 39 }, (_, i) => accessLine(t, { ip: `36.1.2.${i}` }));
const write = (name: string, lines: string[]): string => {
  const f = join(dir, name);
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
};
let n = 0;
const data = (): string => join(dir, `data-${n++}`);
const ingest = (args: string[], input?: string): ReturnType<typeof runCli> => runCli(['ingest', '--project', 'p1', ...args], input);

describe('ingest: a wrong format is loud', () => {
  it('--format combined on a log with the host: exit 3, the count and a sample per reason, and the format that reads it', async () => {
    const log = write('host.log', hostLines);
    const d = data();
    const r = await ingest(['--format', 'combined', '--data', d, log]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^39 lines, 0 accepted, 39 dropped \(parse 39\) in \d+\.\d s\n$/);
    expect(r.stderr).toContain(`dropped 39 lines as parse, e.g.: ${hostLines[0]}\n`);
    expect(r.stderr).toContain('hint: these lines are read by --format combined_host (not combined)');
    expect(r.stderr).toMatch(/every line was dropped \(more than --max-dropped-percent 50\): exit 3; nothing was counted/);
    expect(r.stderr).toContain('warning: the format logs no host');
    expect(storedTotal(d, 'p1')).toBe(0);
    // Nothing was counted, so the file is not marked as read: the corrected run counts it.
    const again = await ingest(['--format', 'combined_host', '--data', d, '--json', log]);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe('');
    expect(JSON.parse(again.stdout)).toEqual({ lines: 39, accepted: 39, dropped: {} });
    expect(storedTotal(d, 'p1')).toBe(39);
  });

  it('--json carries the samples, the hint and the warnings; a mismatched format is bad_status', async () => {
    const log = write('status.log', hostLines.map((l) => l.replace('" 200 123 "', '" OK 123 "')));
    const r = await ingest(['--format', 'combined_host', '--data', data(), '--json', log]);
    expect(r.code).toBe(3);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ lines: 39, accepted: 0, dropped: { bad_status: 39 } });
    expect(out.samples).toEqual({ bad_status: hostLines[0]?.replace('" 200 123 "', '" OK 123 "') });
    expect(out.hint).toMatch(/no known format reads these lines: give nginx's log_format as written in nginx.conf/);
    expect(r.stderr).toContain('dropped 39 lines as bad_status, e.g.: ');
  });

  it('the docs\' combined_host with "$http_x_forwarded_for" appended: named, and read by --format combined_host_xff', async () => {
    const log = write('xff.log', hostLines.map((l, i) => `${l} "58.16.0.${i}, 10.0.0.1"`));
    const d = data();
    const r = await ingest(['--format', 'combined_host', '--data', d, log]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/\(bad_domain 39\)/);
    expect(r.stderr).toContain('hint: these lines are read by --format combined_host_xff (not combined_host): run again with ' +
      '--format combined_host_xff (combined_host with "$http_x_forwarded_for" appended)');
    const ok = await ingest(['--format', 'combined_host_xff', '--data', d, '--json', log]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ lines: 39, accepted: 39, dropped: {} });
    expect(storedTotal(d, 'p1')).toBe(39);
  });

  it('a typo such as $hots is named with what was meant', async () => {
    const log = write('typo.log', hostLines);
    const fmt = `'$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $hots'`;
    const r = await ingest(['--format', fmt, '--data', data(), log]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('warning: unknown variable $hots in --format (did you mean $host?)');
    expect(r.stderr).toContain('hint: these lines are read by --format combined_host (not the log_format given)');
  });

  it("Debian's default combined (no host): says what to change; --domain counts a one-domain server's lines", async () => {
    const log = write('debian.log', hostLines.map((l) => l.replace(/ play\.example\.com$/, '')));
    const d = data();
    const r = await ingest(['--format', 'combined', '--data', d, log]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/\(bad_domain 39\)/);
    expect(r.stderr).toContain('hint: these lines log no host (--format combined reads them, but nothing names the domain): ' +
      'add $host to nginx\'s log_format (docs/ingest.md, "nginx configuration"), or, if this server serves one domain, ' +
      'run again with --format combined --domain NAME');
    const ok = await ingest(['--format', 'combined', '--domain', 'Play.Example.com', '--data', d, '--json', log]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toBe('');
    expect(JSON.parse(ok.stdout)).toEqual({ lines: 39, accepted: 39, dropped: {} });
    expect(storedTotal(d, 'p1')).toBe(39);
    const bad = await ingest(['--format', 'combined', '--domain', 'not a domain', '--data', d, log]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--domain "not a domain" is not a domain name');
  });

  it('warns when every client address is private (nginx behind a proxy), unless --geo-overrides locates them', async () => {
    const log = write('private.log', hostLines.map((_, i) => accessLine(t, { ip: `10.0.3.${i}` })));
    const r = await ingest(['--format', 'combined_host', '--data', data(), log]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: every counted client address was private (e.g. 10.0.3.0), so all traffic counts as abroad/other (OT)');
    expect(r.stderr).toContain('"$http_x_forwarded_for"');
    const geo = join(dir, 'geo.csv');
    writeFileSync(geo, '10.0.0.0/8,GD,CTCC\n');
    const located = await ingest(['--format', 'combined_host', '--geo-overrides', geo, '--data', data(), log]);
    expect(located.code).toBe(0);
    expect(located.stderr).toBe('');
  });

  it('--max-dropped-percent sets the share; under it the run exits 0 and still shows each reason', async () => {
    const log = write('some.log', [...hostLines.slice(0, 3), 'garbage', accessLine(t, { status: 999 })]);
    const strict = await ingest(['--format', 'combined_host', '--data', data(), '--max-dropped-percent', '10', log]);
    expect(strict.code).toBe(3);
    expect(strict.stderr).toContain('40% of the lines were dropped (more than --max-dropped-percent 10): exit 3; the accepted lines are stored');
    const lenient = await ingest(['--format', 'combined_host', '--data', data(), log]);
    expect(lenient.code).toBe(0);
    expect(lenient.stderr).toContain('dropped 1 line as parse, e.g.: garbage\n');
    expect(lenient.stderr).toContain('dropped 1 line as bad_status, e.g.: ');
    expect(lenient.stdout).not.toMatch(/lines\/s/); // no rate for 5 lines in well under a second
    const all = await ingest(['--format', 'combined', '--max-dropped-percent', '100', '--data', data(), log]);
    expect(all.code).toBe(0);
    expect((await ingest(['--format', 'combined_host', '--max-dropped-percent', '101', log])).stderr).toMatch(/must be a number from 0 to 100/);
  });

  it('--dry-run shows how the first lines parse and stores nothing', async () => {
    const log = write('dry.log', [...hostLines.slice(0, 2), 'garbage line', ...hostLines.slice(2)]);
    const d = data();
    const r = await ingest(['--format', 'combined_host', '--dry-run', '--data', d, log]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('dry run: the first 10 line(s) with --format combined_host; nothing is stored');
    expect(lines[1]).toMatch(/^line 1: counted: host="play\.example\.com" status="200" time=\d{4}-.*Z remote_addr="36\.1\.2\.0" client=36\.1\.2\.0 \(\w\w\/\w+\) request="GET \/live\/x\.ts HTTP\/1\.1" bytes=123$/);
    expect(lines[3]).toBe('line 3: dropped as parse: host=- status=- time=- remote_addr=- client=- request=- bytes=-');
    expect(lines).toHaveLength(1 + 10 + 2);
    expect(lines[11]).toMatch(/^10 lines, 9 accepted, 1 dropped \(parse 1\)/);
    expect(lines[12]).toBe('dropped 1 line as parse, e.g.: garbage line');
    expect(existsSync(d)).toBe(false);
    const wrong = await ingest(['--format', 'combined', '--dry-run', log]);
    expect(wrong.code).toBe(3);
    expect(wrong.stdout).toContain('hint: these lines are read by --format combined_host (not combined)');
  });

  it('--dry-run - on a live pipe shows the first 10 lines as soon as they came, and exits with the pipe still open', async () => {
    // A real child process; its stdin is a pipe this test keeps open (as `tail -f log | livestats ingest --dry-run -`).
    const child = spawn(process.execPath, [cliPath(), 'ingest', '--project', 'p1', '--format', 'combined_host', '--dry-run', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    try {
      child.stdin.write(`${hostLines.slice(0, 12).join('\n')}\n`);
      const code = await Promise.race([exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), WAIT_FLOOR_MS))]);
      expect({ code, stdout: stdout.split('\n')[0] }).toEqual({ code: 0, stdout: 'dry run: the first 10 line(s) with --format combined_host; nothing is stored' });
      expect(stdout).toMatch(/^10 lines, 10 accepted, 0 dropped/m);
    } finally {
      if (child.exitCode === null) child.kill();
    }
  }, 2 * WAIT_FLOOR_MS);
});

describe('ingest: smaller usage mistakes (issue 22, item 18)', () => {
  it('--project with a bad id says why; --help lists every --field; a directory or unreadable file is exit 2', async () => {
    const r = await runCli(['ingest', '--project', 'bad project!', '--format', 'combined', 'x.log']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('livestats ingest: --project "bad project!" is not a valid project id: use 1 to 64 letters, digits, _ and -, starting with a letter or digit\n');
    const help = await runCli(['ingest', '--help']);
    expect(help.stdout).toMatch(/--field NAME=PATH .*\(ip, xff, time, domain, status, request, uri, bytes[,)]/); // every JSON field
    const sub = join(dir, 'a-directory');
    mkdirSync(sub, { recursive: true });
    const d = await ingest(['--format', 'combined_host', sub]);
    expect(d.code).toBe(2);
    expect(d.stderr).toContain(`${sub}: not a regular file`);
    expect((await ingest(['--format', 'combined_host', join(dir, 'nope.log')])).stderr).toContain('nope.log: no such file');
  });
});
