/**
 * What authentication costs per request. Prints, side by side:
 *  1. the verifiers alone (ops/s): token lookup vs AK/SK signature check;
 *  2. a whole ListQueryHttpCode request through the app (Fastify inject, real SQLite store,
 *     no socket): no auth (baseline) vs X-Auth-Token vs AK/SK, with ratios to the baseline.
 * The AK/SK request is signed once by this script's own signer, built from the contract's
 * description of the algorithm (the official SDK is a dev dependency, not used at run time),
 * then replayed, so the figures are for verifying only.
 * Run: npm run build && node dist/bench/auth.js
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/api/app.js';
import { allowAll, type Authenticate } from '../src/api/auth.js';
import { verifyAkSk } from '../src/api/auth/aksk.js';
import { canonicalHeaders, canonicalQuery, canonicalRequest, canonicalUris, EMPTY_SHA256, splitTarget, stringToSign } from '../src/api/auth/canonical.js';
import { createAuthenticate } from '../src/api/auth/hook.js';
import { verifyToken } from '../src/api/auth/token.js';
import { createCredentials } from '../src/auth/credentials.js';
import { FileCredentialSource } from '../src/auth/source.js';
import { createStore } from '../src/store/index.js';

const URL_PATH = '/v2/bench/stats/httpcodes?play_domains=a.example.com&play_domains=b.example.com&region=GD';

function sign(ak: string, sk: string, headers: Record<string, string>): string {
  const { path, query } = splitTarget(URL_PATH);
  const names = ['content-type', 'host', 'x-sdk-date'];
  const canonical = canonicalRequest({
    method: 'GET', uri: canonicalUris(path)[0] ?? '', query: canonicalQuery(query) ?? '',
    headers: canonicalHeaders(names, headers) ?? '', signedHeaders: names.join(';'), payloadHash: EMPTY_SHA256,
  });
  const sig = createHmac('sha256', sk).update(stringToSign(headers['x-sdk-date'] ?? '', canonical)).digest('hex');
  return `SDK-HMAC-SHA256 Access=${ak}, SignedHeaders=${names.join(';')}, Signature=${sig}`;
}

function opsPerSec(fn: () => void, ms = 400): number {
  for (let i = 0; i < 2000; i++) fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < 200; i++) fn();
    n += 200;
  }
  return n / ((performance.now() - start) / 1000);
}

type Once = () => Promise<void>;

async function makeRunner(authenticate: Authenticate, headers: Record<string, string>, dir: string): Promise<{ once: Once; close: () => Promise<void> }> {
  const store = createStore({ store: 'sqlite', data: dir });
  await store.init();
  const app = buildApp({ store, authenticate });
  const once = async () => {
    const res = await app.inject({ method: 'GET', url: URL_PATH, headers });
    if (res.statusCode !== 200) throw new Error(`bench request failed: ${res.statusCode} ${res.body}`);
  };
  return { once, close: async () => { await app.close(); await store.close(); } };
}

async function rate(once: Once, ms: number): Promise<number> {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    await once();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** Rounds interleave the variants (rotating order) so warm-up and drift hit all alike; medians are reported. */
async function interleaved(runners: Array<{ once: Once }>, rounds = 7, ms = 200): Promise<number[]> {
  for (const r of runners) for (let i = 0; i < 300; i++) await r.once();
  const results: number[][] = runners.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < runners.length; k++) {
      const idx = (k + round) % runners.length;
      const runner = runners[idx];
      if (runner) results[idx]?.push(await rate(runner.once, ms));
    }
  }
  return results.map(median);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'livestats-bench-auth-'));
  try {
    const c = createCredentials(dir, 'bench');
    const source = new FileCredentialSource(dir);
    const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const base = { 'content-type': 'application/json', host: 'localhost:80', 'x-sdk-date': date };
    const signed = { ...base, authorization: sign(c.ak, c.sk, base) };
    const req = { method: 'GET', url: URL_PATH, headers: signed, body: undefined };
    if (!verifyAkSk(req, (ak) => source.key(ak), Date.now()).ok) throw new Error('bench signature does not verify');

    const tokenOps = opsPerSec(() => void verifyToken(c.token, source));
    const akskOps = opsPerSec(() => void verifyAkSk(req, (ak) => source.key(ak), Date.now()));
    console.log('verifier alone            ops/s      ratio to token');
    console.log(`  X-Auth-Token        ${tokenOps.toFixed(0).padStart(10)}      1.00`);
    console.log(`  AK/SK               ${akskOps.toFixed(0).padStart(10)}      ${(akskOps / tokenOps).toFixed(2)}`);

    const hook = createAuthenticate({ source });
    const runners = [
      await makeRunner(allowAll, {}, join(dir, 'none')),
      await makeRunner(hook, { 'x-auth-token': c.token }, join(dir, 'token')),
      await makeRunner(hook, signed, join(dir, 'aksk')),
    ];
    const [none = 0, token = 0, aksk = 0] = await interleaved(runners);
    for (const r of runners) await r.close();
    console.log('\nwhole request (inject, median of 7 interleaved rounds)');
    console.log('                          req/s      ratio to no auth');
    console.log(`  no auth (baseline)  ${none.toFixed(0).padStart(10)}      1.00`);
    console.log(`  X-Auth-Token        ${token.toFixed(0).padStart(10)}      ${(token / none).toFixed(2)}`);
    console.log(`  AK/SK               ${aksk.toFixed(0).padStart(10)}      ${(aksk / none).toFixed(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
