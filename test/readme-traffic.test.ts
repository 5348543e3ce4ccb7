import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { trafficRecords } from './fixtures/traffic-log.js';

/**
 * Every curl example of the README's traffic section, run against the server on the known log of
 * test/fixtures/traffic-log.ts, answers exactly the JSON text printed under it: the log's requests
 * (derived per line by the real URI and address-family code) go through the real aggregator into
 * the real SQLite traffic cube, read back by the real routes. (test/traffic-ingest-e2e.test.ts
 * runs the same log as nginx lines through `livestats ingest` into both stores.)
 */
const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Traffic and bandwidth endpoints'), readme.indexOf('## Ingesting access logs'));
const examples = [...section.matchAll(/```sh\ncurl [^\n]*'http:\/\/127\.0\.0\.1:8080([^']+)'\n```\n\n```json\n([^\n]+)\n```/g)]
  .map((m) => ({ path: m[1] as string, json: m[2] as string }));

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ now: () => Date.UTC(2028, 2, 1, 12, 0, 30) });
  for (const r of trafficRecords()) app.aggregator.addTraffic(r);
  await app.aggregator.flush();
});
afterAll(async () => app.close());

it('has an example for each of the four endpoints', () => {
  expect(examples).toHaveLength(5);
  const paths = new Set(examples.map((e) => e.path.replace(/\?.*/, '')));
  expect([...paths].sort()).toEqual(['bandwidth/detail', 'bandwidth/peak', 'traffic/detail', 'traffic/summary'].map((p) => `/v2/p1/stats/${p}`));
});

it('answers each example exactly as printed', async () => {
  for (const e of examples) {
    const r = await app.request(e.path);
    expect({ path: e.path, status: r.status, text: r.text }).toEqual({ path: e.path, status: 200, text: e.json });
  }
});
