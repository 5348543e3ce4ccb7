import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { SqliteStore } from '../src/store/sqlite/store.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('ffmpeg', 'ffprobe');

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'livestats-cli-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('livestats tasks / probe / carousel commands', () => {
  it('lists a project\'s tasks with their last-sample time', async () => {
    const store = new SqliteStore(join(dir, 'livestats.db'));
    await store.init();
    const second = Date.UTC(2026, 10, 23, 2, 48, 41);
    await store.write({
      id: 'b1', counts: [], checkpoints: [], tasks: [{ project: 'p1', taskId: 'idle' }],
      samples: [{ project: 'p1', taskId: 'ch9', second, videoFps: 25, videoKbps: 1500, audioFps: 43, audioKbps: 128 }],
    });
    await store.close();
    const r = await run(['tasks', 'list', '--project', 'p1', '--data', dir]);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^TASK\s+CREATED\s+LAST SAMPLE$/);
    expect(lines[1]).toMatch(/^ch9\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+2026-11-23T02:48:41Z$/);
    expect(lines[2]).toMatch(/^idle\s+\S+\s+-$/);
    expect((await run(['tasks', 'list', '--project', 'nobody', '--data', dir])).out).toBe('no carousel tasks in project nobody');
  });

  it('rejects bad command lines with exit code 2 and a reason', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['tasks'], /Usage: livestats tasks list/],
      [['tasks', 'list'], /--project <id> is required/],
      [['probe', '--project', 'p1', '--task', 't1'], /exactly one stream URL is required/],
      [['probe', '--task', 't1', 'rtmp://h/a/s'], /--project <id> is required/],
      [['probe', '--project', 'p1', '--task', 'bad id', 'rtmp://h/a/s'], /--task <id> is required/],
      [['probe', '--project', 'p1', '--task', 't1', '--delay', '0', 'rtmp://h/a/s'], /--delay must be a number of seconds in 1\.\.120/],
      [['probe', '--project', 'p1', '--task', 't1', '--server', 'ftp://x', 'rtmp://h/a/s'], /--server must be an http\(s\) URL/],
      [['probe', '--bogus'], /Unknown option '--bogus'/],
      [['carousel', 'play'], /unknown subcommand "play"/],
      [['carousel', 'run', '--project', 'p1', '--task', 't1', '--to', 'rtmp://h/a/s'], /--playlist is required/],
      [['carousel', 'run', '--project', 'p1', '--task', 't1', '--playlist', 'a.mp4', '--to', 'nowhere'], /--to <url> is required/],
    ];
    for (const [argv, msg] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(msg);
    }
  });

  it('carousel run exits 1 when no file of the playlist can be played', async () => {
    await writeFile(join(dir, 'junk.mp4'), 'junk');
    const r = await run(['carousel', 'run', '--project', 'p1', '--task', 't1', '--playlist', `${join(dir, 'junk.mp4')},${join(dir, 'none.mp4')}`,
      '--to', 'rtmp://127.0.0.1:1/live/x', '--server', 'http://127.0.0.1:9', '--token', 'x', '--log-level', 'silent']);
    expect(r.code).toBe(1);
  });
});
