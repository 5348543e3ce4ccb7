import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  bootstrapCredentials, createCredentials, CredentialsError, credentialsPath, parseCredentials, readCredentials, revokeCredential,
} from './credentials.js';
import { hashToken } from './secrets.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'livestats-cred-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('credentials file', () => {
  it('create: AK 20 chars, SK 40, token lst_…; stored mode 0600 with the token only as its hash', () => {
    const c = createCredentials(dir, 'p1');
    expect(c.ak).toMatch(/^[A-Z0-9]{20}$/);
    expect(c.sk).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(c.token).toMatch(/^lst_[A-Za-z0-9_-]{43}$/);
    expect(statSync(credentialsPath(dir)).mode & 0o777).toBe(0o600);
    const text = readFileSync(credentialsPath(dir), 'utf8');
    expect(text).not.toContain(c.token);
    const file = readCredentials(dir);
    expect(file?.keys).toEqual([expect.objectContaining({ ak: c.ak, sk: c.sk, project_id: 'p1' })]);
    expect(file?.tokens).toEqual([expect.objectContaining({ id: c.token_id, sha256: hashToken(c.token), project_id: 'p1' })]);
    // No temp or lock file is left behind.
    expect(readdirSync(dir)).toEqual(['credentials.json']);
  });

  it('every create makes new secrets; revoke removes by AK or token id only', () => {
    const a = createCredentials(dir, 'p1');
    const b = createCredentials(dir, 'p1');
    expect(new Set([a.ak, b.ak]).size).toBe(2);
    expect(new Set([a.token, b.token]).size).toBe(2);
    expect(revokeCredential(dir, a.ak)).toBe(true);
    expect(revokeCredential(dir, a.ak)).toBe(false);
    expect(revokeCredential(dir, b.token_id)).toBe(true);
    expect(revokeCredential(dir, b.token)).toBe(false);
    const file = readCredentials(dir);
    expect(file?.keys.map((k) => k.ak)).toEqual([b.ak]);
    expect(file?.tokens.map((t) => t.id)).toEqual([a.token_id]);
  });

  it('revoke with nothing to revoke writes nothing: no file is made, so the first start still issues credentials', () => {
    expect(revokeCredential(dir, 'AKNOTHERE')).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    expect(bootstrapCredentials(dir, 'default')?.project_id).toBe('default');
    const before = readFileSync(join(dir, 'credentials.json'), 'utf8');
    expect(revokeCredential(dir, 'AKNOTHERE')).toBe(false);
    expect(readFileSync(join(dir, 'credentials.json'), 'utf8')).toBe(before);
  });

  it('bootstrap only when no file exists at all', () => {
    const first = bootstrapCredentials(dir, 'default');
    expect(first?.project_id).toBe('default');
    expect(bootstrapCredentials(dir, 'default')).toBeUndefined();
    revokeCredential(dir, first?.ak ?? '');
    revokeCredential(dir, first?.token_id ?? '');
    expect(bootstrapCredentials(dir, 'default')).toBeUndefined();
  });

  it('a corrupt file is reported and never overwritten', () => {
    writeFileSync(credentialsPath(dir), '{"version":1,"keys":[{"ak":1}],"tokens":[]}');
    expect(() => createCredentials(dir, 'p1')).toThrow(CredentialsError);
    expect(readFileSync(credentialsPath(dir), 'utf8')).toContain('"ak":1');
  });

  it.each([
    ['not JSON', '{'], ['wrong version', '{"version":2,"keys":[],"tokens":[]}'], ['null', 'null'],
    ['bad token hash', '{"version":1,"keys":[],"tokens":[{"id":"t","sha256":"xyz","project_id":"p","created_at":"x"}]}'],
  ])('parse refuses %s', (_n, text) => {
    expect(() => parseCredentials(text)).toThrow(CredentialsError);
  });

  it('waits for the lock, and takes over a stale one', () => {
    writeFileSync(credentialsPath(dir) + '.lock', '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(credentialsPath(dir) + '.lock', old, old);
    expect(createCredentials(dir, 'p1').project_id).toBe('p1');
  });
});
