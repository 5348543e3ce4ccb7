import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FaultRecord } from '../../test/helpers/fault-report.js';
import { writeSection } from './section.js';

/**
 * `npm run faults`: runs the fault tests for real (disk full on a tmpfs, SQLite lock, ClickHouse
 * killed, ClickHouse stalled with the default timeouts, a replicated ClickHouse's replica killed or cut off and its ZooKeeper down, slow and hostile clients, 20 rounds of kill -9 under mixed load), collects the figures
 * each test records, and rewrites the faults section of RELIABILITY.md. Nothing is written when
 * a test fails.
 */

const TESTS = ['test/faults-disk-full.test.ts', 'test/faults-store.test.ts', 'test/faults-clickhouse-stall.test.ts', 'test/slow-clients.test.ts', 'test/crash-mixed.test.ts',
  'test/faults-clickhouse-replication.test.ts'];
const root = join(import.meta.dirname, '..', '..', '..');
const rounds = process.env.LIVESTATS_CRASH_ROUNDS ?? '20';
const dir = mkdtempSync(join(tmpdir(), 'livestats-faults-'));
const out = join(dir, 'faults.jsonl');
const started = Date.now();
const run = spawnSync(join(root, 'node_modules', '.bin', 'vitest'), ['run', ...TESTS], {
  cwd: root, stdio: 'inherit', env: { ...process.env, LIVESTATS_FAULTS_OUT: out, LIVESTATS_CRASH_ROUNDS: rounds, LIVESTATS_STALL_FULL: '1', LIVESTATS_REPLICATION_FULL: '1' },
});
const records: FaultRecord[] = existsSync(out)
  ? readFileSync(out, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as FaultRecord) : [];
// Test files run in parallel: a fixed order keeps the table's diff to the figures.
records.sort((a, b) => a.fault.localeCompare(b.fault));
rmSync(dir, { recursive: true, force: true });
if (run.status !== 0) {
  console.error(`faults: the fault tests failed (exit ${run.status}); RELIABILITY.md left unchanged`);
  process.exit(1);
}
const n = (v: number | undefined): string => (v === undefined ? '–' : v.toLocaleString('en-US'));
const sum = (k: 'lost' | 'doubleCounted'): number => records.reduce((a, r) => a + r[k], 0);
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim();
} catch {
  // not a git checkout
}
const body = [
  `Run: ${new Date().toISOString().slice(0, 10)}, commit \`${commit}\`, ${((Date.now() - started) / 1000).toFixed(0)} s, ` +
    `${records.length} faults, kill -9 rounds: ${rounds}. Reproduce: \`npm run faults\` (root, for the tmpfs mount).`,
  '',
  '| fault | what livestats did | lines acknowledged | lines refused | lost | double-counted |',
  '|---|---|---:|---:|---:|---:|',
  ...records.map((r) => `| ${r.fault} | ${r.behaviour.replace(/\|/g, '\\|')} | ${n(r.acknowledged)} | ${n(r.refused)} | ${n(r.lost)} | ${n(r.doubleCounted)} |`),
  '',
  `**Lines lost: ${sum('lost')}. Lines double-counted: ${sum('doubleCounted')}.** "Refused" lines got a 503 (or a non-zero ` +
    'exit, or were held back by follow/syslog) and were counted only when retried, once.',
].join('\n');
writeSection(join(root, 'RELIABILITY.md'), 'faults', body);
console.log(`faults: RELIABILITY.md updated (${records.length} faults, lost ${sum('lost')}, double-counted ${sum('doubleCounted')})`);
