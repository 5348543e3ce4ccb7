import { afterAll, beforeAll, expect, it } from 'vitest';
import { runChunkAsync } from '../reliability/fuzz/runner.js';
import { failures } from '../reliability/fuzz/stats.js';
import { httpIntakeTarget, type IntakeLedger } from '../reliability/fuzz/targets/http-intake.js';
import { createKeys, startServe, storedCount, tempData, type ServerProcess } from '../reliability/lib/server.js';

/**
 * The HTTP intake part of `npm run fuzz`, short: 5,000 fuzzed requests in `npm test` (20,000 in
 * `npm run test:long`, via LIVESTATS_FUZZ_INPUTS; 16 in flight) to a real `livestats serve`
 * process (the built CLI) over a socket. Every answer must be the contract's; after SIGTERM the
 * store must hold exactly the lines acknowledged as counted.
 */
const INPUTS = Number(process.env.LIVESTATS_FUZZ_INPUTS ?? 5000);
const data = tempData('fuzz-http');
let server: ServerProcess;
let token = '';

beforeAll(async () => {
  token = (await createKeys(data.dir, 'fuzz')).token;
  server = await startServe(['--data', data.dir, '--log-level', 'warn']);
});
afterAll(async () => {
  await server.stop();
  data.remove();
});

it(`http_intake: ${INPUTS.toLocaleString('en-US')} requests, every answer the contract's, the store exact after shutdown`, async () => {
  const ledger: IntakeLedger = { accepted: 0, requests: 0, duplicates: 0 };
  const target = httpIntakeTarget({ url: server.url, project: 'fuzz', token }, ledger, 16);
  const r = await runChunkAsync(target, { seed: 20261201, numRuns: INPUTS }, 16);
  // On a failure, what the server said (a crash, a refusal) is part of the message.
  expect(r.failure, server.output().slice(-4000)).toBeUndefined();
  expect(failures(r.stats)).toBe(0);
  expect(r.stats.inputs).toBe(INPUTS);
  expect(r.stats.dropped['200:duplicate']).toBeGreaterThan(0);
  expect(r.stats.dropped['400:LIVE.100011001']).toBeGreaterThan(0);
  expect(ledger.accepted).toBeGreaterThan(0);
  expect(await server.stop()).toBe(0);
  expect(storedCount(data.dir, 'fuzz')).toBe(ledger.accepted);
}, 120_000 + INPUTS * 30); // a hang catcher: at load 25 on 2 cores, 20,000 requests took over 240 s
