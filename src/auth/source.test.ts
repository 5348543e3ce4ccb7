import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCredentials, credentialsPath, revokeCredential } from './credentials.js';
import { hashToken } from './secrets.js';
import { combineSources, FileCredentialSource, MemoryCredentialSource } from './source.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'livestats-src-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('FileCredentialSource', () => {
  it('finds keys and token hashes; a new key is found at once, a revoke after the check interval', () => {
    let now = 0;
    const a = createCredentials(dir, 'p1');
    const src = new FileCredentialSource(dir, { now: () => now, checkIntervalMs: 1000 });
    expect(src.key(a.ak)).toEqual({ sk: a.sk, project: 'p1' });
    expect(src.token(hashToken(a.token))).toEqual({ id: a.token_id, project: 'p1' });
    const b = createCredentials(dir, 'p2');
    expect(src.key(b.ak)?.project).toBe('p2'); // a miss re-checks the file
    revokeCredential(dir, a.ak);
    now += 999;
    expect(src.key(a.ak)).toBeDefined(); // cached until the interval passes
    now += 1;
    expect(src.key(a.ak)).toBeUndefined();
  });

  it('fails closed: a corrupt or deleted file means no credentials', () => {
    const a = createCredentials(dir, 'p1');
    const errors: string[] = [];
    const src = new FileCredentialSource(dir, { checkIntervalMs: 0, onError: (e) => errors.push(e.message) });
    expect(src.key(a.ak)).toBeDefined();
    writeFileSync(credentialsPath(dir), 'garbage that is longer than before '.repeat(20));
    expect(src.key(a.ak)).toBeUndefined();
    expect(errors.length).toBe(1);
    rmSync(credentialsPath(dir));
    expect(src.key(a.ak)).toBeUndefined();
  });

  it('no file yet: empty, and picks up a file created later', () => {
    const src = new FileCredentialSource(dir);
    expect(src.key('X')).toBeUndefined();
    const a = createCredentials(dir, 'p1');
    expect(src.key(a.ak)).toBeDefined();
  });
});

describe('MemoryCredentialSource and combineSources', () => {
  it('looks in each source in turn', () => {
    const m1 = new MemoryCredentialSource().addKey('A', 's', 'p1');
    const m2 = new MemoryCredentialSource().addToken('tok', 'id1', 'p2');
    const both = combineSources(m1, m2);
    expect(both.key('A')).toEqual({ sk: 's', project: 'p1' });
    expect(both.token(hashToken('tok'))).toEqual({ id: 'id1', project: 'p2' });
    expect(both.token('tok')).toBeUndefined();
    expect(both.key('B')).toBeUndefined();
  });
});
