import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { promtool } from './harness/prometheus.js';
import { sampleValue } from './helpers/exposition.js';
import { accessLine, runCli, startCli, storedTotal, tempDir, waitFor } from './ingest-helpers.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('promtool');

/** `livestats ingest --metrics-file`: metrics of batch and follow runs for node_exporter's textfile collector. */
const dir = tempDir('metrics-file');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('writes what a batch run counted, in a file promtool accepts', async () => {
  const t = Date.now() - 60_000;
  const log = join(dir, 'batch.log');
  writeFileSync(log, [accessLine(t), accessLine(t, { status: 502 }), accessLine(t, { host: 'b.example.com', status: 301 }), 'junk', ''].join('\n'));
  const prom = join(dir, 'livestats-batch.prom');
  const r = await runCli(['ingest', '--project', 'p1', '--format', 'combined_host', '--data', join(dir, 'd1'), '--metrics-file', prom, log]);
  expect(r.code, r.stderr).toBe(0);
  const text = readFileSync(prom, 'utf8');
  expect(sampleValue(text, 'livestats_ingest_lines_accepted_total{source="batch"}')).toBe(3);
  expect(sampleValue(text, 'livestats_ingest_lines_dropped_total{source="batch",reason="parse"}')).toBe(1);
  expect(sampleValue(text, 'livestats_domain_requests_total{project="p1",domain="play.example.com",class="2xx"}')).toBe(1);
  expect(sampleValue(text, 'livestats_domain_requests_total{project="p1",domain="play.example.com",class="5xx"}')).toBe(1);
  expect(sampleValue(text, 'livestats_domain_requests_total{project="p1",domain="b.example.com",class="3xx"}')).toBe(1);
  expect(sampleValue(text, 'livestats_aggregator_pending_records')).toBe(0);
  // node_exporter exports its own process metrics; the file must not clash with them
  expect(text).not.toMatch(/^process_/m);
  const check = await promtool(['check', 'metrics'], text);
  expect(check.code, check.stdout + check.stderr).toBe(0);
});

it('writes what a followed file counted when the follower stops', async () => {
  const log = join(dir, 'follow.log');
  const prom = join(dir, 'livestats-follow.prom');
  const data = join(dir, 'd2');
  writeFileSync(log, '');
  const child = startCli(['ingest', '--follow', '--project', 'p1', '--format', 'combined_host', '--data', data, '--poll-ms', '50', '--metrics-file', prom, log]);
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const t = Date.now() - 60_000;
  appendFileSync(log, [accessLine(t), accessLine(t, { status: 404 }), 'x', ''].join('\n'));
  expect(await waitFor(() => storedTotal(data) === 2, 15_000)).toBe(true);
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  const text = readFileSync(prom, 'utf8');
  expect(sampleValue(text, 'livestats_ingest_lines_accepted_total{source="follow"}')).toBe(2);
  expect(sampleValue(text, 'livestats_ingest_lines_dropped_total{source="follow",reason="parse"}')).toBe(1);
  expect(sampleValue(text, 'livestats_domain_requests_total{project="p1",domain="play.example.com",class="4xx"}')).toBe(1);
});

it('refuses a metrics file in a directory that does not exist', async () => {
  const r = await runCli(['ingest', '--project', 'p1', '--format', 'combined_host', '--data', join(dir, 'd3'), '--metrics-file', join(dir, 'nope', 'x.prom'), '-'], '');
  expect(r.code).toBe(2);
  expect(r.stderr.trim()).toBe(`livestats ingest: --metrics-file: directory ${join(dir, 'nope')} does not exist`);
});
