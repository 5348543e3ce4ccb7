import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCredentials, credentialsPath, revokeCredential } from './credentials.js';
import { hashToken } from './secrets.js';
import { combineSources, FileCredentialSource, MemoryCredentialSource } from './source.js';

let dir: string;

/** Polls until the condition holds (generous deadline: the machine may be busy). */
async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'livestats-src-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('FileCredentialSource', () => {
  it('finds keys and token hashes; without the watch, changes are seen after the check interval', () => {
    let now = 0;
    const a = createCredentials(dir, 'p1');
    const src = new FileCredentialSource(dir, { now: () => now, checkIntervalMs: 1000 });
    src.close(); // the interval check alone
    expect(src.key(a.ak)).toEqual({ sk: a.sk, project: 'p1' });
    expect(src.token(hashToken(a.token))).toEqual({ id: a.token_id, project: 'p1' });
    const b = createCredentials(dir, 'p2');
    revokeCredential(dir, a.ak);
    now += 999;
    expect(src.key(a.ak)).toBeDefined(); // cached until the interval passes
    expect(src.key(b.ak)).toBeUndefined(); // a miss does not re-read the file
    now += 1;
    expect(src.key(a.ak)).toBeUndefined();
    expect(src.key(b.ak)?.project).toBe('p2');
  });

  it('sees a new key and a revoke at once through the directory watch', async () => {
    const a = createCredentials(dir, 'p1');
    const src = new FileCredentialSource(dir, { now: () => 0, checkIntervalMs: 1000 }); // the clock never moves
    try {
      const b = createCredentials(dir, 'p2');
      await waitFor(() => src.key(b.ak)?.project === 'p2');
      revokeCredential(dir, a.ak);
      await waitFor(() => src.key(a.ak) === undefined);
    } finally {
      src.close();
    }
  });

  it('an unknown AK is looked up as fast as a known one (no file check on a miss)', () => {
    const a = createCredentials(dir, 'p1');
    const src = new FileCredentialSource(dir, { checkIntervalMs: 60_000 });
    src.close();
    const time = (ak: string): number => {
      const t = process.hrtime.bigint();
      for (let i = 0; i < 20_000; i++) src.key(ak);
      return Number(process.hrtime.bigint() - t);
    };
    // Alternating rounds, fastest of each: what the machine's load adds is the same for both.
    let known = Infinity;
    let unknown = Infinity;
    for (let round = 0; round < 15; round++) {
      known = Math.min(known, time(a.ak));
      unknown = Math.min(unknown, time('UNKNOWNAK0000000000X'));
    }
    // A miss that re-checks the file (a stat per lookup) is tens of times slower than a map read.
    expect(unknown / known).toBeLessThan(4);
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

  it('no file yet: empty, and picks up a file created later', async () => {
    const src = new FileCredentialSource(dir);
    try {
      expect(src.key('X')).toBeUndefined();
      const a = createCredentials(dir, 'p1');
      await waitFor(() => src.key(a.ak) !== undefined);
    } finally {
      src.close();
    }
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
