import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readCredentials } from '../auth/credentials.js';
import { keysCommand } from './keys.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'livestats-keys-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await keysCommand(argv, { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n'), env });
  return { code, out, err };
}

describe('livestats keys', () => {
  it('create --json prints exactly project_id, ak, sk, token, token_id', async () => {
    const r = await run(['create', '--project', 'p1', '--json', '--data', dir]);
    expect(r.code).toBe(0);
    const o = JSON.parse(r.out) as Record<string, string>;
    expect(Object.keys(o)).toEqual(['project_id', 'ak', 'sk', 'token', 'token_id']);
    expect(readCredentials(dir)?.keys[0]?.ak).toBe(o.ak);
  });

  it('create (text) shows the secrets once; list never shows them; LIVESTATS_DATA is honoured', async () => {
    const created = await run(['create', '--project', 'p2'], { LIVESTATS_DATA: dir });
    expect(created.code).toBe(0);
    const file = readCredentials(dir);
    const sk = file?.keys[0]?.sk ?? 'missing';
    expect(created.out).toContain(sk);
    const token = /Token\s+(\S+)/.exec(created.out)?.[1] ?? 'missing';
    const list = await run(['list', '--data', dir]);
    expect(list.out).toContain(file?.keys[0]?.ak);
    expect(list.out).toContain(file?.tokens[0]?.id);
    expect(list.out).not.toContain(sk);
    expect(list.out).not.toContain(token);
    const json = JSON.parse((await run(['list', '--json', '--data', dir])).out) as Array<Record<string, string>>;
    expect(json.map((r) => r.type).sort()).toEqual(['ak', 'token']);
    expect(JSON.stringify(json)).not.toContain(sk);
  });

  it('revoke by AK and by token id; unknown id is exit 1', async () => {
    await run(['create', '--project', 'p1', '--data', dir]);
    const file = readCredentials(dir);
    expect((await run(['revoke', file?.keys[0]?.ak ?? '', '--data', dir])).code).toBe(0);
    expect((await run(['revoke', file?.tokens[0]?.id ?? '', '--data', dir])).code).toBe(0);
    const again = await run(['revoke', file?.tokens[0]?.id ?? '', '--data', dir]);
    expect(again.code).toBe(1);
    expect(again.err).toContain('no access key or token');
    expect(readCredentials(dir)).toEqual({ version: 1, keys: [], tokens: [] });
  });

  it.each([
    [['create', '--data', 'x'], 2], [['create', '--project', '../etc', '--data', 'x'], 2], [['create', '--project', 'a'.repeat(65)], 2],
    [['revoke'], 2], [['bogus'], 2], [[], 2], [['list', 'extra'], 2], [['create', '--nope'], 2], [['--help'], 0],
  ])('bad usage %j exits %i without touching files', async (argv, code) => {
    expect((await run(argv as string[], { LIVESTATS_DATA: dir })).code).toBe(code);
    expect(readCredentials(dir)).toBeUndefined();
  });

  it('list with no file says so', async () => {
    const r = await run(['list', '--data', dir]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('No credentials');
  });
});
