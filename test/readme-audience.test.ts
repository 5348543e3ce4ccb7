import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';

/**
 * Every curl example of the README's viewers section answers exactly the JSON text printed under it:
 * the section's log is posted to the real HTTP ingest route (the real line processor derives FLV
 * sessions and HLS viewers), goes through the real aggregator into the real SQLite audience cube and
 * is read back by the real routes.
 */
const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Viewers: online viewers'), readme.indexOf('## Carousel tasks'));
const log = /```log\n([\s\S]*?)\n```/.exec(section)?.[1] ?? '';
const format = /access-logs\?format=('[^`]+')`/.exec(section)?.[1] ?? '';
const examples = [...section.matchAll(/```sh\ncurl [^\n]*'http:\/\/127\.0\.0\.1:8080([^']+)'\n```\n\n```json\n([^\n]+)\n```/g)]
  .map((m) => ({ path: m[1] as string, json: m[2] as string }));

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ now: () => Date.UTC(2028, 2, 1, 12, 0, 30) });
  const res = await app.request(`/ingest/v1/p1/access-logs?format=${encodeURIComponent(format)}`, {
    method: 'POST', body: `${log}\n`, headers: { 'content-type': 'text/plain' },
  });
  expect(res.status, res.text).toBe(200);
  expect(res.json).toMatchObject({ accepted: 5 });
});
afterAll(async () => app.close());

it('has a log and an example for each of the three endpoints', () => {
  expect(log.split('\n')).toHaveLength(5);
  expect(format).toContain('$request_time');
  expect(examples).toHaveLength(4);
  const paths = new Set(examples.map((e) => e.path.replace(/\?.*/, '')));
  expect([...paths].sort()).toEqual(['stream-portraits', 'stream/play-info', 'user'].map((p) => `/v2/p1/stats/${p}`));
});

it('answers each example exactly as printed', async () => {
  for (const e of examples) {
    const r = await app.request(e.path);
    expect({ path: e.path, status: r.status, text: r.text }).toEqual({ path: e.path, status: 200, text: e.json });
  }
});
