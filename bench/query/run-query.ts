import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { load, type LoadResult } from '../lib/load.js';
import { startProcess } from '../lib/proc.js';
import { table } from '../lib/table.js';
import { FULL, QUICK, generateDataset, type DatasetSpec } from './dataset.js';
import { scenarios } from './scenarios.js';
import { measureFreshness, type FreshnessResult } from './freshness.js';
import { benchTarget, type BenchTarget } from './target.js';

const MIN = 60_000;

export interface QueryBenchOptions {
  root: string;
  quick: boolean;
  store: string;
  log: (s: string) => void;
}

export interface QueryBenchResult {
  store: string;
  quick: boolean;
  dataset: { spec: DatasetSpec; countRows: number; sampleRows: number; requests: number; bytesOnDisk: number; generatedMs: number; reused: boolean };
  rows: Array<LoadResult & { ratioToBaseline: number }>;
  freshness: FreshnessResult;
}

/** Creates (or reuses, when recent and identical) the benchmark dataset in the target store. */
async function prepareDataset(target: BenchTarget, spec: DatasetSpec, log: (s: string) => void): Promise<QueryBenchResult['dataset'] & { anchor: number }> {
  const key = JSON.stringify(spec);
  if (target.mayExist()) {
    const store = target.open();
    await store.init();
    const meta = await store.getMeta('bench.dataset');
    await store.close();
    if (meta) {
      const saved = JSON.parse(meta) as { key: string; anchor: number; countRows: number; sampleRows: number; requests: number; generatedMs: number };
      if (saved.key === key && Date.now() - saved.anchor < 12 * 3_600_000) {
        log(`dataset: reusing the ${spec.days}-day dataset (generated ${new Date(saved.anchor).toISOString()})`);
        return { spec, ...saved, bytesOnDisk: await target.bytesOnDisk(), reused: true };
      }
    }
  }
  await target.reset();
  const anchor = Math.floor(Date.now() / MIN) * MIN;
  const store = target.open();
  await store.init();
  const started = Date.now();
  log(`dataset: generating ${spec.days} day(s) x ${spec.domains} domains + ${spec.tasks} carousel tasks (${store.kind})`);
  const stats = await generateDataset(store, spec, anchor, log);
  const generatedMs = Date.now() - started;
  await store.setMeta('bench.dataset', JSON.stringify({ key, anchor, ...stats, generatedMs }));
  await store.close();
  return { spec, anchor, ...stats, generatedMs, bytesOnDisk: await target.bytesOnDisk(), reused: false };
}

export async function runQueryBench(o: QueryBenchOptions): Promise<QueryBenchResult> {
  const spec = o.quick ? QUICK : FULL;
  const dir = join(o.root, '.bench-data', `${o.store}-${o.quick ? 'quick' : 'full'}`);
  const target = await benchTarget(o.store, dir, `bench_${o.quick ? 'quick' : 'full'}`);
  try {
    return await measure(o, target, await prepareDataset(target, spec, o.log));
  } finally {
    await target.close();
  }
}

async function measure(o: QueryBenchOptions, target: BenchTarget, ds: Awaited<ReturnType<typeof prepareDataset>>): Promise<QueryBenchResult> {
  const spec = ds.spec;
  o.log(`dataset: ${ds.countRows} count rows (${ds.requests} requests), ${ds.sampleRows} carousel samples, ` +
    `${(ds.bytesOnDisk / 2 ** 20).toFixed(1)} MiB on disk${ds.reused ? '' : `, generated in ${(ds.generatedMs / 1000).toFixed(1)} s`}`);

  // Queries authenticate like any client: a token created with the real `livestats keys` CLI.
  const keys = JSON.parse(execFileSync(process.execPath, [join(o.root, 'bin/livestats.js'), 'keys', 'create', '--project', spec.project,
    '--json', '--data', target.dataDir]).toString()) as { token: string };
  const headers = { 'x-auth-token': keys.token };
  const seconds = o.quick ? 2 : 10;
  const connections = 10;
  // Two livestats processes on the same data: the default configuration (1 s response cache,
  // what repeated dashboard polls get) and --query-cache-ms 0 (every request hits the store).
  const serve = (cacheMs: string) => startProcess([join(o.root, 'bin/livestats.js'), 'serve', ...target.serveFlags, '--port', '0',
    '--log-level', 'warn', '--store', o.store, '--query-cache-ms', cacheMs]);
  const cached = await serve('1000');
  const uncached = await serve('0');
  const baseline = await startProcess([join(o.root, 'dist/bench/query/baseline-server.js')]);
  const rows: LoadResult[] = [];
  let freshness: FreshnessResult;
  try {
    const list = scenarios(spec.project, ds.anchor, spec.domains);
    for (const s of list) {
      const res = await fetch(uncached.url + s.path, { headers });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${s.name}: HTTP ${res.status} ${text.slice(0, 200)}`);
      if (!/"count":[1-9]|_list":\[[^\]]*[1-9]/.test(text)) throw new Error(`${s.name}: the answer holds no data`);
    }
    rows.push(await load('baseline: bare Fastify, fixed 40 KB JSON', `${baseline.url}/fixed`, { connections, seconds }));
    for (const s of list) {
      o.log(`load: ${s.name} (${connections} connections, ${seconds} s, uncached then cached)`);
      rows.push(await load(`${s.name} (no cache)`, uncached.url + s.path, { connections, seconds, headers }));
      rows.push(await load(`${s.name} (1 s cache)`, cached.url + s.path, { connections, seconds, headers }));
    }
    const tries = o.quick ? 20 : 200;
    o.log(`freshness: ${tries} x (POST one access-log line, poll the stats API until it is counted)`);
    freshness = await measureFreshness(cached.url, spec.project, tries, headers);
  } finally {
    await cached.stop();
    await uncached.stop();
    await baseline.stop();
  }
  const base = rows[0]?.rps ?? 1;
  return {
    store: o.store, quick: o.quick,
    dataset: { spec, countRows: ds.countRows, sampleRows: ds.sampleRows, requests: ds.requests, bytesOnDisk: ds.bytesOnDisk, generatedMs: ds.generatedMs, reused: ds.reused },
    rows: rows.map((r) => ({ ...r, ratioToBaseline: r.rps / base })),
    freshness,
  };
}

export function queryTable(r: QueryBenchResult): string {
  return table(
    ['scenario', 'p50 ms', 'p99 ms', 'max ms', 'req/s', 'x baseline req/s', 'KB/resp', 'non-2xx', 'errors'],
    r.rows.map((x) => [x.name, x.p50, x.p99, x.max, x.rps, x.ratioToBaseline, x.bytesPerReq / 1024, x.non2xx, x.errors]),
  );
}

export function freshnessTable(r: QueryBenchResult): string {
  const f = r.freshness;
  return table(['freshness (POST one access-log line, then GET httpcodes every 10 ms)', 'tries', 'median ms', 'p90 ms', 'max ms'],
    [
      ['acknowledged -> visible in a query', f.tries, f.medianMs, f.p90Ms, f.maxMs],
      ['sent -> acknowledged (the route answers once the counts are committed)', f.tries, f.ackMedianMs, '', f.ackMaxMs],
    ]);
}
