import { execFileSync, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { Agent } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../../src/paths.js';
import { call } from '../../reliability/soak/http.js';
import { createKeys, startServe, tempData, type ServerProcess } from '../../reliability/lib/server.js';
import { startClickHouse, type ClickHouseServer } from '../../test/harness/clickhouse.js';
import { writeSection } from './section.js';

/**
 * `npm run blast [-- --seconds 20]`: tenant B's acceptance rate while tenant A (HTTP, authenticated)
 * and an unauthenticated syslog sender send poison: 2 lines of 2^53 - 1 bytes in one cell per batch
 * or per pair of datagrams (issue 20, item 1). Each store (SQLite; ClickHouse when clickhouse-server is
 * installed) runs twice against a fresh real `livestats serve` process: B alone (the baseline), then B
 * with the poison. B sends 10-line batches on 2 connections the whole time; afterwards its counts are
 * read back through the stats API and compared with the lines acknowledged. Writes the "poison"
 * section of RELIABILITY.md.
 */

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' }, 'no-write': { type: 'boolean', default: false } } });
const SECONDS = Number(values.seconds);
const POISON = Number.MAX_SAFE_INTEGER;
const B_LINES = 10;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

function line(ms: number, host: string, bytes: number, path: string): string {
  const d = new Date(ms);
  const t = `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
  return `127.0.0.1 - - [${t}] "GET ${path} HTTP/1.1" 200 ${bytes} "-" "blast" ${host}`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

interface Phase {
  store: string;
  poison: boolean;
  bBatches: number;
  bAccepted: number;
  bOther: Map<number, number>;
  bExpected: number;
  bCounted: number;
  aPosts: number;
  aAnswers: Map<string, number>;
  datagrams: number;
  healthSamples: number;
  healthDegraded: number;
  laterSyslogStored: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function counted(agent: Agent, base: URL, project: string, token: string, domain: string): Promise<number> {
  const res = await call(agent, base, 'GET', `/v2/${project}/stats/httpcodes?play_domains=${domain}`, { 'x-auth-token': token });
  if (res.status !== 200) return -1;
  const body = JSON.parse(res.body) as { data_series?: Array<{ http_codes: Array<{ count: number }> }> };
  let n = 0;
  for (const s of body.data_series ?? []) for (const c of s.http_codes) n += c.count;
  return n;
}

async function phase(store: string, storeArgs: string[], poison: boolean): Promise<Phase> {
  const data = tempData('blast');
  const syslogPort = await freePort();
  const keys = { a: await createKeys(data.dir, 'a'), b: await createKeys(data.dir, 'b'), s: await createKeys(data.dir, 's') };
  let server: ServerProcess | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const out: Phase = {
    store, poison, bBatches: 0, bAccepted: 0, bOther: new Map(), bExpected: 0, bCounted: 0, aPosts: 0, aAnswers: new Map(),
    datagrams: 0, healthSamples: 0, healthDegraded: 0, laterSyslogStored: false,
  };
  try {
    server = await startServe(['--data', data.dir, '--log-level', 'error', '--syslog', `udp://127.0.0.1:${syslogPort}`, '--syslog-project', 's',
      '--syslog-format', 'combined_host', '--query-cache-ms', '0', ...storeArgs]);
    const base = new URL(server.url);
    const end = Date.now() + SECONDS * 1000;
    const at = (): number => Date.now() - 60_000;
    const tenantB = async (worker: number): Promise<void> => {
      for (let i = 0; Date.now() < end; i++) {
        const body = Array.from({ length: B_LINES }, (_, j) => line(at(), 'b.example.com', 1000 + j, `/live/b${worker}-${i}.flv`)).join('\n');
        out.bBatches++;
        const res = await call(agent, base, 'POST', '/ingest/v1/b/access-logs?format=combined_host', { 'content-type': 'text/plain', 'x-auth-token': keys.b.token }, body)
          .catch(() => ({ status: 0, body: '', ms: 0 }));
        if (res.status === 200) {
          out.bAccepted++;
          out.bExpected += (JSON.parse(res.body) as { accepted: number }).accepted;
        } else {
          out.bOther.set(res.status, (out.bOther.get(res.status) ?? 0) + 1);
        }
      }
    };
    const tenantA = async (): Promise<void> => {
      while (Date.now() < end) {
        const body = [0, 1].map(() => line(at(), 'a.example.com', POISON, '/live/a.flv')).join('\n');
        const res = await call(agent, base, 'POST', '/ingest/v1/a/access-logs?format=combined_host', { 'content-type': 'text/plain', 'x-auth-token': keys.a.token }, body)
          .catch(() => ({ status: 0, body: '', ms: 0 }));
        out.aPosts++;
        let what = String(res.status);
        if (res.status === 200) what += ` dropped ${JSON.stringify((JSON.parse(res.body) as { dropped: unknown }).dropped)}`;
        out.aAnswers.set(what, (out.aAnswers.get(what) ?? 0) + 1);
      }
    };
    const syslogSender = async (): Promise<void> => {
      const sock = createSocket('udp4');
      while (Date.now() < end) {
        for (let k = 0; k < 2; k++) {
          await new Promise<void>((r) => sock.send(`<190>Nov 23 10:00:00 edge nginx: ${line(at(), 's.example.com', POISON, '/live/s.flv')}`, syslogPort, '127.0.0.1', () => r()));
          out.datagrams++;
        }
        await sleep(20);
      }
      sock.close();
    };
    const health = async (): Promise<void> => {
      while (Date.now() < end) {
        const res = await call(agent, base, 'GET', '/healthz', {}).catch(() => ({ status: 0, body: '', ms: 0 }));
        out.healthSamples++;
        if (res.status !== 200) out.healthDegraded++;
        await sleep(250);
      }
    };
    await Promise.all([tenantB(0), tenantB(1), health(), ...(poison ? [tenantA(), syslogSender()] : [])]);
    // A later legitimate syslog line must be stored.
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.send(`<190>Nov 23 10:00:00 edge nginx: ${line(at(), 's.example.com', 500, '/live/s.flv')}`, syslogPort, '127.0.0.1', () => r()));
    sock.close();
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      out.bCounted = await counted(agent, base, 'b', keys.b.token, 'b.example.com');
      out.laterSyslogStored = (await counted(agent, base, 's', keys.s.token, 's.example.com')) === 1;
      if (out.bCounted === out.bExpected && out.laterSyslogStored) break;
      await sleep(200);
    }
  } finally {
    agent.destroy();
    await server?.stop();
    data.remove();
  }
  return out;
}

const hasClickHouse = spawnSync('sh', ['-c', 'command -v clickhouse-server || command -v clickhouse'], { stdio: 'ignore' }).status === 0;
const started = Date.now();
const phases: Phase[] = [];
for (const poison of [false, true]) phases.push(await phase('SQLite', [], poison));
if (hasClickHouse) {
  let ch: ClickHouseServer | undefined;
  try {
    ch = await startClickHouse();
    for (const poison of [false, true]) phases.push(await phase('ClickHouse', ['--store', 'clickhouse', '--clickhouse-url', ch.url(`blast_${poison ? 'p' : 'b'}`)], poison));
  } finally {
    await ch?.destroy();
  }
}

const n = (v: number): string => v.toLocaleString('en-US');
const pct = (a: number, b: number): string => (b === 0 ? '–' : `${((100 * a) / b).toFixed(a === b ? 0 : 2)} %`);
const answers = (m: Map<string | number, number>): string => (m.size === 0 ? '–' : [...m].map(([k, v]) => `${k}: ${n(v)}`).join(', '));
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectRoot() }).toString().trim();
} catch {
  // not a git checkout
}
const table = [
  '| store | run | B batches | B accepted | B acceptance | B other answers | B lines acknowledged / counted | A poison posts (answers) | poison syslog datagrams | /healthz not ok | later syslog line stored |',
  '|---|---|---:|---:|---:|---|---|---|---:|---:|---|',
  ...phases.map((p) => `| ${p.store} | ${p.poison ? 'B + poison' : 'B alone (baseline)'} | ${n(p.bBatches)} | ${n(p.bAccepted)} | ${pct(p.bAccepted, p.bBatches)} | ${answers(p.bOther)} | ` +
    `${n(p.bExpected)} / ${n(p.bCounted)} | ${p.poison ? `${n(p.aPosts)} (${answers(p.aAnswers)})` : '–'} | ${p.poison ? n(p.datagrams) : '–'} | ` +
    `${n(p.healthDegraded)} of ${n(p.healthSamples)} | ${p.laterSyslogStored ? 'yes' : 'NO'} |`),
];
const poisoned = phases.filter((p) => p.poison);
const worst = Math.min(...poisoned.map((p) => (p.bBatches === 0 ? 0 : p.bAccepted / p.bBatches)));
const exact = phases.every((p) => p.bCounted === p.bExpected && p.laterSyslogStored);
const body = [
  `Written by \`npm run blast\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, commit \`${commit}\`, ${SECONDS} s per run, ` +
    `${((Date.now() - started) / 1000).toFixed(0)} s in all${hasClickHouse ? '' : ' (clickhouse-server not installed: SQLite only)'}. ` +
    `A real \`livestats serve\` per run; tenant B posts ${B_LINES}-line batches on 2 connections the whole run. "B + poison": tenant A posts 2 lines ` +
    'of 2^53 − 1 bytes in one cell in a loop, and an unauthenticated sender sends 2 such syslog UDP datagrams every 20 ms.',
  '',
  ...table,
  '',
  `**Tenant B's acceptance rate under poison: ${(100 * worst).toFixed(worst === 1 ? 0 : 2)} % (goal 100 %); every acknowledged line of B counted exactly: ${exact ? 'yes' : 'NO'}.** ` +
    'Before the fix (issue 20) the same poison refused 28 of 43 of B\'s batches over HTTP and 56 of 58 with syslog, and all of them on ClickHouse. ' +
    'A line claiming more than 1 TiB is now dropped as `bad_bytes` when parsed, a cell sum past 2^53 − 1 saturates, and a write that still fails ' +
    'for its data is split per project so only the poisoned part is rejected (docs/storage.md, "Value bounds"; src/ingest/aggregator.ts). ' +
    'Regression tests: `test/blast-radius.test.ts`.',
].join('\n');
console.log(body);
if (!values['no-write']) writeSection(join(projectRoot(), 'RELIABILITY.md'), 'poison', body);
