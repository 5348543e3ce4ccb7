import { hash, randomBytes } from 'node:crypto';

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` characters drawn uniformly from `alphabet` (rejection sampling, no modulo bias). */
export function randomString(alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

/** An access key id in the provider's style: 20 upper-case letters and digits. */
export const newAccessKey = (): string => randomString(UPPER_ALNUM, 20);
/** A secret key: 40 letters and digits (~238 bits). */
export const newSecretKey = (): string => randomString(ALNUM, 40);
/** An API token: `lst_` and 43 base64url characters (256 bits). */
export const newToken = (): string => 'lst_' + randomBytes(32).toString('base64url');
/** A token's public id, used to list and revoke it. */
export const newTokenId = (): string => 'tok_' + randomBytes(6).toString('hex');

/**
 * Tokens are stored and looked up only by this hash (checked on every request that sends a token:
 * the one-shot `hash` is a third of `createHash().update().digest()`'s cost, the same digest).
 */
export const hashToken = (token: string): string => hash('sha256', token, 'hex');
