import { hashToken } from '../../auth/secrets.js';
import type { CredentialSource } from '../../auth/source.js';

export type TokenResult = { ok: true; id: string; project: string } | { ok: false; reason: 'malformed-token' | 'unknown-token' };

const MAX_TOKEN = 512;
const TOKEN_SHAPE = /^[\x21-\x7e]+$/;

/** Checks an `X-Auth-Token` value: only its SHA-256 is compared with the stored hashes. */
export function verifyToken(value: string | string[] | undefined, source: CredentialSource): TokenResult {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TOKEN || !TOKEN_SHAPE.test(value)) {
    return { ok: false, reason: 'malformed-token' };
  }
  const entry = source.token(hashToken(value));
  return entry ? { ok: true, id: entry.id, project: entry.project } : { ok: false, reason: 'unknown-token' };
}
