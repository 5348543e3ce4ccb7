import { chmodSync, chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTool, type ToolResult } from './helpers/run-tool.js';
import { accessLine, cliPath, storedTotal, tempDir } from './ingest-helpers.js';

// Issue 22 (items 1 and 11): one data directory, found the same way by every command; no command but
// `serve` makes ./data by itself; odd or unwritable directories are answered with their path, never a
// stack trace. Real spawned CLI processes, from a chosen working directory (and user, where root can).

const dir = tempDir('opdata');
chmodSync(dir, 0o755); // the unprivileged user of the last tests must reach its subdirectories
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv; uid?: number } = {}): Promise<ToolResult> {
  const env = { ...process.env, ...o.env };
  if (!o.env || !('LIVESTATS_DATA' in o.env)) delete env.LIVESTATS_DATA;
  return runTool(process.execPath, [cliPath(), ...args], undefined, { cwd: o.cwd ?? dir, env, ...(o.uid !== undefined ? { uid: o.uid, gid: o.uid } : {}) });
}

const STACK = /\n\s+at /;
const log = join(dir, 'access.log');
writeFileSync(log, Array.from({ length: 5 }, () => accessLine(Date.now() - 60_000)).join('\n') + '\n');
const ingestArgs = ['ingest', '--project', 'p1', '--format', 'combined_host'];

describe('which data directory', () => {
  it('tasks list --data on a missing directory says so (exit 2) and creates nothing', async () => {
    const missing = join(dir, 'nonexistent');
    const r = await run(['tasks', 'list', '--project', 'p1', '--data', missing]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`livestats tasks: data directory ${missing} does not exist`);
    expect(existsSync(missing)).toBe(false);
    // An existing directory that holds no store: still nothing created.
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const e = await run(['tasks', 'list', '--project', 'p1', '--data', empty]);
    expect(e.code).toBe(2);
    expect(e.stderr).toContain(`data directory ${empty} holds no livestats database (livestats.db)`);
    expect(existsSync(join(empty, 'livestats.db'))).toBe(false);
  }, 60_000);

  it('without --data or LIVESTATS_DATA, ingest, tasks and keys ask for one instead of making ./data (exit 2)', async () => {
    const cwd = join(dir, 'elsewhere');
    mkdirSync(cwd);
    for (const args of [[...ingestArgs, log], ['tasks', 'list', '--project', 'p1'], ['keys', 'create', '--project', 'p1'], ['keys', 'list']]) {
      const r = await run(args, { cwd });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('which data directory? Pass --data DIR or set LIVESTATS_DATA to the one the server uses');
      expect(r.stdout).not.toMatch(/accepted/);
    }
    expect(existsSync(join(cwd, 'data'))).toBe(false);
    // A ./data that is not a livestats directory is not taken either.
    mkdirSync(join(cwd, 'data'));
    writeFileSync(join(cwd, 'data', 'notes.txt'), 'mine\n');
    const r = await run([...ingestArgs, log], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`./data here (${join(cwd, 'data')}) is not a livestats data directory`);
    expect(existsSync(join(cwd, 'data', 'livestats.db'))).toBe(false);
  }, 90_000);

  it('LIVESTATS_DATA is used by every command; ./data is used (and named) only when it already is a livestats directory', async () => {
    const shared = join(dir, 'shared');
    expect((await run(['keys', 'create', '--project', 'p1', '--json'], { env: { LIVESTATS_DATA: shared } })).code).toBe(0);
    const viaEnv = await run([...ingestArgs, log], { env: { LIVESTATS_DATA: shared } });
    expect(viaEnv.code).toBe(0);
    expect(storedTotal(shared, 'p1')).toBe(5);
    expect((await run(['tasks', 'list', '--project', 'p1'], { env: { LIVESTATS_DATA: shared } })).code).toBe(0);
    // From the directory holding it, as ./data: the command says which directory it found.
    const home = join(dir, 'home');
    mkdirSync(home);
    expect((await run(['keys', 'create', '--project', 'p1', '--data', './data'], { cwd: home })).code).toBe(0);
    const found = await run([...ingestArgs, log], { cwd: home });
    expect(found.code).toBe(0);
    expect(found.stderr).toContain(`livestats ingest: using data directory ${join(home, 'data')} (./data, found here`);
    expect(storedTotal(join(home, 'data'), 'p1')).toBe(5);
  }, 90_000);

  it('an empty LIVESTATS_DATA is unset for ingest as for tasks and keys (the directory is chosen once, by one rule)', async () => {
    const home = join(dir, 'home-empty-env');
    mkdirSync(home);
    expect((await run(['keys', 'create', '--project', 'p1', '--data', './data'], { cwd: home })).code).toBe(0);
    expect((await run(['keys', 'list'], { cwd: home, env: { LIVESTATS_DATA: '' } })).code).toBe(0);
    const r = await run([...ingestArgs, log], { cwd: home, env: { LIVESTATS_DATA: '' } });
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0, stderr: expect.stringContaining(`using data directory ${join(home, 'data')}`) });
    expect(storedTotal(join(home, 'data'), 'p1')).toBe(5);
  }, 90_000);
});

describe('odd and unwritable data directories', () => {
  it('a file as the data directory (/etc/hostname): every command names it, exit 2, no stack trace', async () => {
    const file = '/etc/hostname';
    for (const [name, args] of [
      ['serve', ['serve', '--data', file, '--port', '0']],
      ['ingest', [...ingestArgs, '--data', file, log]],
      ['keys', ['keys', 'create', '--project', 'p1', '--data', file]],
      ['tasks', ['tasks', 'list', '--project', 'p1', '--data', file]],
    ] as const) {
      const r = await run([...args]);
      expect(r.code, name).toBe(2);
      expect(r.stderr).toContain(`livestats ${name}: data directory ${file} is not a directory (it is a file)`);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stderr).not.toContain('EEXIST');
    }
  }, 120_000);

  const root = process.getuid?.() === 0;
  it.runIf(root)('as another user: an unwritable directory and an unreadable store are named with the path, never a stack trace', async () => {
    const nobody = 65534;
    const locked = join(dir, 'locked');
    mkdirSync(locked, { mode: 0o755 }); // owned by root: not writable by nobody
    for (const [name, args] of [
      ['serve', ['serve', '--data', locked, '--port', '0']],
      ['ingest', [...ingestArgs, '--data', locked, log]],
      ['keys', ['keys', 'create', '--project', 'p1', '--data', locked]],
    ] as const) {
      const r = await run([...args], { uid: nobody });
      expect(r.code, name).toBe(2);
      expect(r.stderr).toContain(`livestats ${name}: data directory ${locked} is not writable by this user (uid ${nobody})`);
      expect(r.stderr).not.toMatch(STACK);
    }
    // A directory nobody owns holding root's 0600 store: the file is named (was "unable to open database file").
    const store = join(dir, 'theirs');
    expect((await run([...ingestArgs, '--data', store, log])).code).toBe(0);
    chownSync(store, nobody, nobody);
    for (const [name, args] of [
      ['ingest', [...ingestArgs, '--data', store, log]],
      ['tasks', ['tasks', 'list', '--project', 'p1', '--data', store]],
    ] as const) {
      const r = await run([...args], { uid: nobody });
      expect(r.code, name).toBe(1);
      expect(r.stderr).toContain(`livestats ${name}: cannot open ${join(store, 'livestats.db')}: permission denied (EACCES)`);
      expect(r.stderr).not.toMatch(STACK);
    }
  }, 120_000);
});
