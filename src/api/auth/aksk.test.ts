import { stringify } from 'node:querystring';
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from './canonical.js';
import { BODY_PENDING, parseAuthorization, parseSdkDate, verifyAkSk, type SignedRequest } from './aksk.js';

const KEYS = new Map([['AK1', { sk: 'secret-one', project: 'p1' }]]);
const lookup = (ak: string) => KEYS.get(ak);
const SIG = 'a'.repeat(64);

/** A request signed by the official SDK signer, as a server would receive it. */
function signed(o: { method?: string; path?: string; query?: Record<string, string | string[]>; data?: unknown; sk?: string; date?: string }): SignedRequest {
  const path = o.path ?? '/v2/p1/stats/httpcodes';
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (o.date) headers['X-Sdk-Date'] = o.date;
  const out = AKSKSigner.sign(
    { endpoint: `http://example.test:8080${path}`, method: o.method ?? 'GET', headers, queryParams: o.query ?? {}, data: o.data },
    new BasicCredentials().withAk('AK1').withSk(o.sk ?? 'secret-one'),
  ) as Record<string, string>;
  const lower = Object.fromEntries(Object.entries(out).map(([k, v]) => [k.toLowerCase(), v]));
  const q = stringify(o.query ?? {});
  return { method: o.method ?? 'GET', url: q ? `${path}?${q}` : path, headers: lower, body: o.data === undefined ? undefined : Buffer.from(JSON.stringify(o.data)) };
}

describe('parseAuthorization', () => {
  it('parses the SDK header', () => {
    expect(parseAuthorization(`SDK-HMAC-SHA256 Access=AK1, SignedHeaders=content-type;host;x-sdk-date, Signature=${SIG}`))
      .toEqual({ ak: 'AK1', signedHeaders: ['content-type', 'host', 'x-sdk-date'], signature: SIG });
  });

  it.each([
    ['wrong algorithm', `SDK-HMAC-SHA1 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=${SIG}`],
    ['no host signed', `SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date, Signature=${SIG}`],
    ['no date signed', `SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host, Signature=${SIG}`],
    ['duplicate name', `SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;host;x-sdk-date, Signature=${SIG}`],
    ['upper-case hex', `SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=${SIG.toUpperCase()}`],
    ['short signature', `SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=abc`],
    ['empty access', `SDK-HMAC-SHA256 Access=, SignedHeaders=host;x-sdk-date, Signature=${SIG}`],
    ['fields reordered', `SDK-HMAC-SHA256 SignedHeaders=host;x-sdk-date, Access=AK1, Signature=${SIG}`],
    ['oversized', `SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;${'a;'.repeat(1500)}x-sdk-date, Signature=${SIG}`],
    ['empty', ''],
  ])('refuses %s', (_name, header) => {
    expect(parseAuthorization(header)).toBeUndefined();
  });
});

describe('parseSdkDate', () => {
  it('reads YYYYMMDDTHHMMSSZ as UTC', () => {
    expect(parseSdkDate('20261123T020304Z')).toBe(Date.UTC(2026, 10, 23, 2, 3, 4));
  });

  it.each(['20260230T000000Z', '20261123T240000Z', '20261123T020304', '2026-11-23T02:03:04Z', '20261123T020360Z', ''])('refuses %j', (s) => {
    expect(parseSdkDate(s)).toBeUndefined();
  });
});

describe('verifyAkSk', () => {
  const date = '20261123T020000Z';
  const at = Date.UTC(2026, 10, 23, 2, 0, 0);

  it('accepts what the SDK signed, with arrays and a JSON body', () => {
    expect(verifyAkSk(signed({ date, query: { d: ['b', 'a', 'ü x'] } }), lookup, at)).toEqual({ ok: true, ak: 'AK1', project: 'p1' });
    expect(verifyAkSk(signed({ date, method: 'POST', path: '/ingest/p1/x', data: { a: [1, 'ü'] } }), lookup, at).ok).toBe(true);
  });

  it('names the reason of each refusal (for the log)', () => {
    const ok = signed({ date, query: { d: 'a' } });
    expect(verifyAkSk(signed({ date, sk: 'other' }), lookup, at)).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(verifyAkSk({ ...ok, url: ok.url + 'b' }, lookup, at)).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(verifyAkSk({ ...ok, method: 'DELETE' }, lookup, at)).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(verifyAkSk(ok, lookup, at + 15 * 60_000 + 1000)).toMatchObject({ ok: false, reason: 'date-out-of-window' });
    expect(verifyAkSk(ok, lookup, at + 15 * 60_000)).toMatchObject({ ok: true });
    expect(verifyAkSk(ok, () => undefined, at)).toMatchObject({ ok: false, reason: 'unknown-ak' });
    expect(verifyAkSk({ ...ok, headers: { ...ok.headers, host: undefined } }, lookup, at)).toMatchObject({ ok: false, reason: 'missing-signed-header' });
    expect(verifyAkSk({ ...ok, headers: { ...ok.headers, 'x-sdk-date': '2026' } }, lookup, at)).toMatchObject({ ok: false, reason: 'bad-date' });
    expect(verifyAkSk({ ...ok, url: '/v2/p1/stats/httpcodes?d=%ZZ' }, lookup, at)).toMatchObject({ ok: false, reason: 'bad-encoding' });
    expect(verifyAkSk({ ...ok, body: Buffer.from('x') }, lookup, at)).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(verifyAkSk({ ...ok, headers: { ...ok.headers, 'x-sdk-content-sha256': 'UNSIGNED-PAYLOAD' }, body: Buffer.from('x') }, lookup, at))
      .toMatchObject({ ok: false, reason: 'payload-hash-mismatch' });
    expect(verifyAkSk({ ...ok, headers: {} }, lookup, at)).toMatchObject({ ok: false, reason: 'malformed-authorization' });
  });
});

describe('verifyAkSk before the body is read (BODY_PENDING)', () => {
  const date = '20261123T020000Z';
  const at = Date.UTC(2026, 10, 23, 2, 0, 0);
  const data = { lines: ['a', 'b'] };

  it('without X-Sdk-Content-Sha256: checks the rest, then says the body is needed (and whether the AK is known)', () => {
    const ok = signed({ date, method: 'POST', path: '/ingest/p1/x', data });
    expect(verifyAkSk({ ...ok, body: BODY_PENDING }, lookup, at)).toEqual({ ok: false, reason: 'payload-pending', unknownAk: false });
    expect(verifyAkSk({ ...ok, body: BODY_PENDING }, () => undefined, at)).toEqual({ ok: false, reason: 'payload-pending', unknownAk: true });
    // What the headers alone refuse is refused before the body.
    expect(verifyAkSk({ ...ok, body: BODY_PENDING }, lookup, at + 16 * 60_000)).toMatchObject({ reason: 'date-out-of-window' });
    expect(verifyAkSk({ ...ok, body: BODY_PENDING, url: ok.url + '?a=%zz' }, lookup, at)).toMatchObject({ reason: 'bad-encoding' });
  });

  it('with X-Sdk-Content-Sha256: the whole signature is checked before the body, and the body must match it after', () => {
    const hash = sha256Hex(JSON.stringify(data));
    // The SDK signs the declared hash when the header is given.
    const path = '/ingest/p1/x';
    const out = AKSKSigner.sign(
      { endpoint: `http://example.test:8080${path}`, method: 'POST', headers: { 'content-type': 'text/plain', 'X-Sdk-Date': date, 'X-Sdk-Content-Sha256': hash }, queryParams: {}, data },
      new BasicCredentials().withAk('AK1').withSk('secret-one'),
    ) as Record<string, string>;
    const headers = Object.fromEntries(Object.entries(out).map(([k, v]) => [k.toLowerCase(), v]));
    const req: SignedRequest = { method: 'POST', url: path, headers, body: BODY_PENDING };
    expect(verifyAkSk(req, lookup, at)).toEqual({ ok: true, ak: 'AK1', project: 'p1' });
    expect(verifyAkSk({ ...req, headers: { ...headers, 'x-sdk-content-sha256': 'b'.repeat(64) } }, lookup, at)).toMatchObject({ reason: 'bad-signature' });
    expect(verifyAkSk({ ...req, body: Buffer.from(JSON.stringify(data)) }, lookup, at).ok).toBe(true);
    expect(verifyAkSk({ ...req, body: Buffer.from('other') }, lookup, at)).toMatchObject({ reason: 'payload-hash-mismatch' });
    // A hash computed as the body arrived stands for the body.
    expect(verifyAkSk({ ...req, body: Buffer.alloc(0), bodySha256: hash }, lookup, at).ok).toBe(true);
  });

  it('UNSIGNED-PAYLOAD is accepted before the body only when the headers announce none', () => {
    const base = signed({ date });
    const h = { ...base.headers, 'x-sdk-content-sha256': 'UNSIGNED-PAYLOAD' };
    expect(verifyAkSk({ ...base, headers: { ...h, 'content-length': '5' }, body: BODY_PENDING }, lookup, at)).toMatchObject({ reason: 'payload-hash-mismatch' });
    expect(verifyAkSk({ ...base, headers: { ...h, 'transfer-encoding': 'chunked' }, body: BODY_PENDING }, lookup, at)).toMatchObject({ reason: 'payload-hash-mismatch' });
  });
});
