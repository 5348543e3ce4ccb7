import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { hashToken, newAccessKey, newSecretKey, newToken, newTokenId } from './secrets.js';

/**
 * The credential file `<data>/credentials.json` (mode 0600). Secret keys are stored as they
 * are (HMAC verification needs them); API tokens only as SHA-256 hashes. Every change is
 * written to a temporary file, flushed and renamed over the old one, under a lock file, so
 * a reader never sees half a file and two writers never lose each other's change.
 */
export interface StoredKey {
  ak: string;
  sk: string;
  project_id: string;
  created_at: string;
}

export interface StoredToken {
  id: string;
  sha256: string;
  project_id: string;
  created_at: string;
}

export interface CredentialsFile {
  version: 1;
  keys: StoredKey[];
  tokens: StoredToken[];
}

/** What `keys create` hands out, once. */
export interface IssuedCredentials {
  project_id: string;
  ak: string;
  sk: string;
  token: string;
  token_id: string;
}

export class CredentialsError extends Error {}

export const credentialsPath = (dataDir: string): string => join(dataDir, 'credentials.json');

const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Validates parsed JSON as a credentials file; throws CredentialsError naming what is wrong. */
export function parseCredentials(text: string): CredentialsFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CredentialsError('credentials file is not valid JSON');
  }
  const o = raw as Partial<Record<keyof CredentialsFile, unknown>> | null;
  if (!o || typeof o !== 'object' || o.version !== 1 || !Array.isArray(o.keys) || !Array.isArray(o.tokens)) {
    throw new CredentialsError('credentials file: expected {"version":1,"keys":[...],"tokens":[...]}');
  }
  const keys = o.keys.map((k: unknown, i) => {
    const e = k as Partial<StoredKey> | null;
    if (!e || !isStr(e.ak) || !isStr(e.sk) || !isStr(e.project_id) || !isStr(e.created_at)) {
      throw new CredentialsError(`credentials file: keys[${i}] is malformed`);
    }
    return { ak: e.ak, sk: e.sk, project_id: e.project_id, created_at: e.created_at };
  });
  const tokens = o.tokens.map((t: unknown, i) => {
    const e = t as Partial<StoredToken> | null;
    if (!e || !isStr(e.id) || !isStr(e.sha256) || !/^[0-9a-f]{64}$/.test(e.sha256) || !isStr(e.project_id) || !isStr(e.created_at)) {
      throw new CredentialsError(`credentials file: tokens[${i}] is malformed`);
    }
    return { id: e.id, sha256: e.sha256, project_id: e.project_id, created_at: e.created_at };
  });
  return { version: 1, keys, tokens };
}

/** The stored credentials, or undefined when the file does not exist. */
export function readCredentials(dataDir: string): CredentialsFile | undefined {
  let text: string;
  try {
    text = readFileSync(credentialsPath(dataDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseCredentials(text);
}

function writeAtomically(dataDir: string, file: CredentialsFile): void {
  const target = credentialsPath(dataDir);
  const tmp = `${target}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(file, null, 2) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, target);
}

const LOCK_STALE_MS = 10_000;
const LOCK_WAIT_MS = 5_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs `change` on the current file (empty if none) under the lock and writes the result. */
export function updateCredentials<T>(dataDir: string, change: (file: CredentialsFile) => T): T {
  return withCredentialsLock(dataDir, () => {
    const file = readCredentials(dataDir) ?? { version: 1, keys: [], tokens: [] };
    const result = change(file);
    writeAtomically(dataDir, file);
    return result;
  });
}

/** Runs `body` holding the credentials file's lock (created beside it). */
function withCredentialsLock<T>(dataDir: string, body: () => T): T {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lock = `${credentialsPath(dataDir)}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > LOCK_STALE_MS) rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new CredentialsError(`credentials file is locked (${lock}); retry, or remove the lock if no livestats command is running`);
      else sleepSync(50);
    }
  }
  try {
    return body();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Creates an AK/SK pair and an API token for a project; the secrets are returned only here. */
export function issueCredentials(file: CredentialsFile, project: string, now = new Date()): IssuedCredentials {
  const created_at = now.toISOString();
  const issued = { project_id: project, ak: newAccessKey(), sk: newSecretKey(), token: newToken(), token_id: newTokenId() };
  file.keys.push({ ak: issued.ak, sk: issued.sk, project_id: project, created_at });
  file.tokens.push({ id: issued.token_id, sha256: hashToken(issued.token), project_id: project, created_at });
  return issued;
}

export const createCredentials = (dataDir: string, project: string): IssuedCredentials =>
  updateCredentials(dataDir, (file) => issueCredentials(file, project));

/** Removes the key with this AK or the token with this id; false when there is none. */
export const revokeCredential = (dataDir: string, id: string): boolean =>
  withCredentialsLock(dataDir, () => {
    // Nothing to revoke writes nothing: a credentials file made here (empty) would stop the first start issuing keys.
    const file = readCredentials(dataDir);
    if (!file) return false;
    const before = file.keys.length + file.tokens.length;
    file.keys = file.keys.filter((k) => k.ak !== id);
    file.tokens = file.tokens.filter((t) => t.id !== id);
    if (file.keys.length + file.tokens.length === before) return false;
    writeAtomically(dataDir, file);
    return true;
  });

/**
 * First start: when no credentials file exists at all, creates one with a key and a token
 * for `project` and returns them (to be printed once). Otherwise returns undefined.
 */
export function bootstrapCredentials(dataDir: string, project: string): IssuedCredentials | undefined {
  if (statSync(credentialsPath(dataDir), { throwIfNoEntry: false })) return undefined;
  return updateCredentials(dataDir, (file) =>
    file.keys.length + file.tokens.length === 0 ? issueCredentials(file, project) : undefined);
}

/**
 * A first start that failed after bootstrapCredentials (e.g. the port was busy): its key and
 * token were never shown, so they are taken back, and the file too when nothing else is in it,
 * so that the next start creates and prints new ones. Anything else in the file is kept.
 */
export function withdrawFirstCredentials(dataDir: string, issued: IssuedCredentials): void {
  withCredentialsLock(dataDir, () => {
    const file = readCredentials(dataDir);
    if (!file) return;
    file.keys = file.keys.filter((k) => k.ak !== issued.ak);
    file.tokens = file.tokens.filter((t) => t.id !== issued.token_id);
    if (file.keys.length + file.tokens.length === 0) rmSync(credentialsPath(dataDir), { force: true });
    else writeAtomically(dataDir, file);
  });
}
