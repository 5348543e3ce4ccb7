// What one ingest acknowledgement costs ClickHouse (issue 24): the statements and the parts of each POST.
//
//   node dist/bench/query/ack-inventory.js [--baseline <checkout of an older build>] [--posts 5] [--lines 500] [--domains 10]
//
// Starts a temporary clickhouse-server (query_log and part_log on) and `livestats serve --store clickhouse` of this
// build (and of the baseline, a database of its own), posts `posts` batches of `lines` combined_host lines (the
// mixed row's probe body, mixed-probe.ts) with an X-Batch-Id one after the other, idle otherwise, and prints per
// server the statements of the write path (system.query_log: kind, count per POST, mean ms) and the parts written
// (system.part_log NewPart: table, count per POST, rows).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../../src/paths.js';
import { startClickHouseIn } from '../../test/harness/clickhouse.js';
import { startProcess, type Server } from '../lib/proc.js';
import { table } from '../lib/table.js';
import { ingestBody } from './mixed-probe.js';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' }, posts: { type: 'string', default: '5' }, lines: { type: 'string', default: '500' },
    domains: { type: 'string', default: '10' },
  },
});
const posts = Number(values.posts);
const domains = Array.from({ length: Number(values.domains) }, (_, i) => `m${String(i + 1).padStart(3, '0')}.mixed.example`);
const project = 'inventory';
const dir = mkdtempSync(join(tmpdir(), 'livestats-ack-inventory-'));
mkdirSync(join(dir, 'clickhouse'));
const ch = await startClickHouseIn(join(dir, 'clickhouse'), { queryLog: true, partLog: true });
const servers: Server[] = [];
try {
  const builds = [{ label: 'this build', root: projectRoot(), db: 'inv_new' }, ...(values.baseline ? [{ label: 'baseline', root: values.baseline, db: 'inv_old' }] : [])];
  for (const b of builds) {
    const data = join(dir, b.db);
    mkdirSync(data);
    const keys = JSON.parse(execFileSync(process.execPath, [join(b.root, 'bin/livestats.js'), 'keys', 'create', '--project', project, '--json', '--data', data]).toString()) as { token: string };
    const s = await startProcess([join(b.root, 'bin/livestats.js'), 'serve', '--data', data, '--store', 'clickhouse', '--clickhouse-url', ch.url(b.db),
      '--port', '0', '--log-level', 'warn'], {}, 60_000);
    servers.push(s);
    // One warm-up POST (first writes create nothing special, but the first connection and name reads do).
    const post = async (i: number): Promise<void> => {
      const res = await fetch(`${s.url}/ingest/v1/${project}/access-logs?format=combined_host`, {
        method: 'POST', headers: { 'x-auth-token': keys.token, 'content-type': 'text/plain', 'x-batch-id': `inv-${b.db}-${i}` },
        body: ingestBody({ domains, lines: Number(values.lines), latest: Date.now() }, i),
      });
      if (res.status !== 200) throw new Error(`${b.label}: HTTP ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    };
    await post(-1);
    await new Promise((r) => setTimeout(r, 1500));
    await ch.sql('SYSTEM FLUSH LOGS');
    const from = (await ch.sql('SELECT now()')).trim();
    for (let i = 0; i < posts; i++) await post(i);
    await ch.sql('SYSTEM FLUSH LOGS');
    const statements = await ch.sql(`SELECT
        if(startsWith(query, 'INSERT'), concat('INSERT ', extract(query, 'INSERT INTO ([^ (]+)')), concat('SELECT ', extract(query, 'FROM ([^ (]+)'))) AS kind,
        round(count() / ${posts}, 2), round(avg(query_duration_ms), 1), round(avg(written_rows))
      FROM system.query_log
      WHERE type = 2 AND event_time >= toDateTime('${from}') AND query LIKE '%${b.db}%' AND query NOT LIKE '%system.%'
      GROUP BY kind ORDER BY kind FORMAT TabSeparated`);
    const parts = await ch.sql(`SELECT concat(database, '.', table), round(count() / ${posts}, 2), round(avg(rows)), groupUniqArray(partition_id)
      FROM system.part_log
      WHERE event_type = 1 AND event_time >= toDateTime('${from}') AND database = '${b.db}'
      GROUP BY database, table ORDER BY table FORMAT TabSeparated`);
    const rows = (t: string): string[][] => t.trim().split('\n').filter(Boolean).map((l) => l.split('\t'));
    const st = rows(statements);
    const pt = rows(parts);
    console.log(`\n${b.label}: statements per POST (${posts} POSTs of ${values.lines} lines, X-Batch-Id), ${st.reduce((a, r) => a + Number(r[1]), 0).toFixed(2)} in all\n\n${table(['statement', 'per POST', 'mean ms', 'rows written'], st)}`);
    console.log(`\n${b.label}: parts written per POST, ${pt.reduce((a, r) => a + Number(r[1]), 0).toFixed(2)} in all\n\n${table(['table', 'per POST', 'rows', 'partitions'], pt)}`);
  }
} finally {
  for (const s of servers) await s.stop();
  await ch.destroy();
  rmSync(dir, { recursive: true, force: true });
}
