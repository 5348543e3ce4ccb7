import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NO_REQUEST_TIME_WARNING } from '../src/ingest/audience/notes.js';
import { accessLine, cliPath, storedTotal, tempDir, waitFor } from './ingest-helpers.js';

// `ingest --follow` through the real CLI (issue 22, items 2, 3 and 18): it waits for a missing file,
// shows drops, summaries and rotations on the console (also with --json), and says where it starts.
const dir = tempDir('follow-cli');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function follow(args: string[]): Run {
  const child = spawn(process.execPath, [cliPath(), 'ingest', '--follow', '--project', 'f1', '--format', 'combined_host', '--poll-ms', '50', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

const t = (): number => Date.now() - 60_000;
const good = (n: number, from = 0): string =>
  Array.from({ length: n }, (_, i) => accessLine(t(), { ip: '36.1.2.3', path: `/live/s${from + i}.flv` }) + '\n').join('');
const jsonLines = (s: string): Array<Record<string, unknown>> => s.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('ingest --follow on the console', () => {
  it('waits for a missing file, shows each drop reason at once, summaries, the rotation, and totals on exit', async () => {
    const data = join(dir, 'data-a');
    const log = join(dir, 'missing', 'access.log');
    const run = follow(['--data', data, '--summary-interval', '1', log]);
    try {
      expect(await waitFor(() => run.err().includes(`${log} does not exist yet: waiting for it to appear (like tail -F)`), 60_000)).toBe(true);
      expect(run.child.exitCode).toBe(null); // before: exit 2 "no such file"
      mkdirSync(join(dir, 'missing'));
      writeFileSync(log, good(3) + 'garbage here\n');
      expect(await waitFor(() => storedTotal(data, 'f1') === 3, 60_000)).toBe(true);
      expect(await waitFor(() => run.err().includes(`${log}: a line was dropped as parse: garbage here\n`), 60_000)).toBe(true);
      expect(run.err()).toContain(`${log} appeared: reading it from its start`);
      expect(await waitFor(() => /livestats ingest: last \d+ s: \d+ lines?, /.test(run.err()), 60_000)).toBe(true);
      renameSync(log, `${log}.1`);
      writeFileSync(log, good(2, 100));
      expect(await waitFor(() => storedTotal(data, 'f1') === 5, 60_000)).toBe(true);
      expect(run.err()).toContain(`${log} was rotated (replaced by a new file): finishing the old file first`);
      expect(run.err()).toMatch(/: the old file is finished \(read up to byte \d+\); reading the new /);
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
    expect(run.err()).toMatch(/livestats ingest: in all: 6 lines, 5 accepted, 1 dropped \(parse 1\) in \d+\.\d s/);
    expect(run.err()).toContain('livestats ingest: dropped 1 line as parse, e.g.: garbage here\n');
  }, 240_000);

  it('--json: JSON lines on stdout; a first follow counts what the file holds, a restart goes on from its offset, --from-end skips', async () => {
    const data = join(dir, 'data-b');
    const a = join(dir, 'a.log');
    const aText = good(4);
    const badLine = accessLine(t(), { status: 999 }) + '\n';
    writeFileSync(a, aText);
    const first = follow(['--data', data, '--json', a]);
    try {
      expect(await waitFor(() => storedTotal(data, 'f1') === 4, 60_000)).toBe(true);
      appendFileSync(a, badLine);
      expect(await waitFor(() => jsonLines(first.out()).some((l) => l.type === 'dropped'), 60_000)).toBe(true);
    } finally {
      first.child.kill('SIGTERM');
    }
    expect(await first.exited).toBe(0);
    const events = jsonLines(first.out());
    expect(events[0]).toEqual({ type: 'event', file: a, message: `${a}: followed for the first time: counting the ${aText.length} bytes already in it, then new lines` });
    expect(events.find((l) => l.type === 'dropped')).toEqual({ type: 'dropped', file: a, reason: 'bad_status', sample: badLine.trim() });
    expect(events.at(-1)).toMatchObject({ type: 'total', lines: 5, accepted: 4, dropped: { bad_status: 1 } });
    // FLV lines without $request_time: warned once, as a JSON line like every warning (not only on stderr).
    expect(events.filter((l) => l.type === 'warning')).toEqual([{ type: 'warning', file: a, message: NO_REQUEST_TIME_WARNING }]);
    expect(storedTotal(data, 'f1')).toBe(4);

    appendFileSync(a, good(2, 10)); // written while stopped
    const b = join(dir, 'b.log');
    const bText = good(7, 20);
    writeFileSync(b, bText);
    const second = follow(['--data', data, '--json', '--from-end', a, b]);
    try {
      expect(await waitFor(() => storedTotal(data, 'f1') === 6, 60_000)).toBe(true);
      appendFileSync(b, good(1, 30));
      expect(await waitFor(() => storedTotal(data, 'f1') === 7, 60_000)).toBe(true);
    } finally {
      second.child.kill('SIGTERM');
    }
    expect(await second.exited).toBe(0);
    const messages = jsonLines(second.out()).filter((l) => l.type === 'event').map((l) => l.message);
    expect(messages).toContain(`${a}: continuing at byte ${aText.length + badLine.length}, where an earlier run stopped`);
    expect(messages).toContain(`${b}: followed for the first time with --from-end: skipping the ${bText.length} bytes already in it, counting new lines`);
    expect(jsonLines(second.out()).at(-1)).toMatchObject({ type: 'total', lines: 3, accepted: 3, dropped: {} });
    expect(storedTotal(data, 'f1')).toBe(7);
  }, 240_000);
});
