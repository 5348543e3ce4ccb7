import { createRequire } from 'node:module';
import { stringify } from 'node:querystring';
import fc from 'fast-check';
import { verifyAkSk, type AkSkFailure } from '../../../src/api/auth/aksk.js';
import { verifyToken } from '../../../src/api/auth/token.js';
import { MemoryCredentialSource } from '../../../src/auth/source.js';
import { applyMutations, mutationsArb } from '../mutate.js';
import { accepted, dropped, wrong, type FuzzTarget, type Verdict } from '../target.js';

/** The official Huawei Cloud SDK's signer: the independent side that produces valid signatures. */
interface SdkSigner {
  sign(request: { endpoint: string; method: string; headers: Record<string, string>; queryParams: Record<string, string | string[]>; data?: unknown }, cred: unknown): Record<string, string>;
}
interface SdkCredentials {
  withAk(ak: string): SdkCredentials;
  withSk(sk: string): SdkCredentials;
}

const require = createRequire(import.meta.url);
let sdk: { signer: SdkSigner; credentials: () => SdkCredentials } | undefined;
function loadSdk(): NonNullable<typeof sdk> {
  if (!sdk) {
    const core = require('@huaweicloud/huaweicloud-sdk-core') as { BasicCredentials: new () => SdkCredentials };
    const { AKSKSigner } = require('@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js') as { AKSKSigner: SdkSigner };
    sdk = { signer: AKSKSigner, credentials: () => new core.BasicCredentials() };
  }
  return sdk;
}

const AK = 'FUZZAKEXAMPLE0001';
const SK = 'fuzz-secret-key-0123456789abcdefghijklmnop';
const TOKEN = 'lst_fuzzTokenExample0123456789abcdefghijklm';
const source = new MemoryCredentialSource().addKey(AK, SK, 'fuzz-proj').addToken(TOKEN, 'tok1', 'fuzz-proj');

type Part = 'authorization' | 'x-sdk-date' | 'url' | 'body' | 'method' | 'host' | 'token';

interface AuthInput {
  method: 'GET' | 'POST';
  project: string;
  query: Record<string, string | string[]>;
  body: string | null;
  extraHeader: string | null;
  mutate: Part | null;
  edits: Parameters<typeof applyMutations>[1];
}

const value = fc.oneof(fc.string({ unit: 'grapheme-ascii', maxLength: 10 }), fc.constantFrom('a b', 'c+d', 'ü/ß?&=#%', '例子.com', "h'(i)!", '~*'));
const inputArb: fc.Arbitrary<AuthInput> = fc.record({
  method: fc.constantFrom('GET' as const, 'POST' as const),
  project: fc.stringMatching(/^[A-Za-z0-9_-]{1,16}$/),
  query: fc.dictionary(fc.stringMatching(/^[a-z_]{1,10}$/), fc.oneof(value, fc.array(value, { minLength: 1, maxLength: 3 })), { maxKeys: 4 }),
  body: fc.option(fc.string({ unit: 'binary', maxLength: 60 }), { freq: 2 }),
  extraHeader: fc.option(fc.stringMatching(/^[ -~]{0,20}$/), { freq: 2 }),
  mutate: fc.option(fc.constantFrom('authorization' as const, 'x-sdk-date' as const, 'url' as const, 'body' as const, 'method' as const, 'host' as const, 'token' as const), { freq: 4 }),
  edits: mutationsArb,
});

const AKSK_REASONS: AkSkFailure[] = ['malformed-authorization', 'bad-date', 'date-out-of-window', 'missing-signed-header', 'bad-encoding', 'payload-hash-mismatch', 'unknown-ak', 'bad-signature'];

/**
 * The Authorization header (SDK-HMAC-SHA256 AK/SK) and X-Auth-Token checks: requests signed by the
 * official SDK must verify; any edit of any signed part must get a refusal reason, never a throw.
 */
export function authorizationTarget(): FuzzTarget<AuthInput> {
  return {
    name: 'authorization',
    title: 'Authorization header (AK/SK signed by the official SDK, then edited) and X-Auth-Token',
    arbitrary: inputArb,
    reasons: [...AKSK_REASONS, 'malformed-token', 'unknown-token'],
    limitMs: 1000,
    prepare() {
      loadSdk();
    },
    run(input): Verdict {
      const { signer, credentials } = loadSdk();
      const path = `/v2/${input.project}/stats/httpcodes`;
      const data = input.method === 'POST' && input.body ? input.body : undefined;
      const headers: Record<string, string> = { 'content-type': 'application/json', ...(input.extraHeader !== null ? { 'x-extra': input.extraHeader } : {}) };
      const signed = signer.sign({ endpoint: `http://127.0.0.1:8080${path}`, method: input.method, headers, queryParams: input.query, data }, credentials().withAk(AK).withSk(SK));
      const lower: Record<string, string> = {};
      for (const [k, v] of Object.entries(signed)) lower[k.toLowerCase()] = v;
      lower.host ??= '127.0.0.1:8080';
      const qs = stringify(input.query);
      let url = qs ? `${path}?${qs}` : path;
      let body = data !== undefined ? Buffer.from(JSON.stringify(data), 'utf8') : undefined;
      let method: string = input.method;
      let token = TOKEN;
      const m = input.mutate;
      if (m === 'authorization' || m === 'x-sdk-date' || m === 'host') lower[m] = applyMutations(lower[m] ?? '', input.edits);
      else if (m === 'url') url = applyMutations(url, input.edits);
      else if (m === 'body') body = Buffer.from(applyMutations(body?.toString('latin1') ?? '', input.edits), 'latin1');
      else if (m === 'method') method = applyMutations(method, input.edits);
      else if (m === 'token') token = applyMutations(token, input.edits);
      const r = verifyAkSk({ method, url, headers: lower, body }, (ak) => source.key(ak), Date.now());
      const t = verifyToken(token, source);
      if (m === null) {
        if (!r.ok) return wrong(`a request signed by the SDK was refused: ${r.reason} (${method} ${url})`);
        if (r.project !== 'fuzz-proj' || !t.ok) return wrong('wrong project or token refused');
        return accepted;
      }
      if (!t.ok) return dropped(t.reason);
      return r.ok ? accepted : dropped(r.reason);
    },
  };
}
