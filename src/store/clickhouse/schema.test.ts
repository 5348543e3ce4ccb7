import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../paths.js';
import { loadMigrations } from '../migrations.js';
import { localTable, renderMigration, table } from './schema.js';

const init = readFileSync(join(projectRoot(), 'src/store/clickhouse/migrations/001_init.sql'), 'utf8');

describe('renderMigration', () => {
  it('creates plain tables in single-server mode', () => {
    const stmts = renderMigration(init, { database: 'ls' });
    expect(stmts).toHaveLength(5);
    expect(stmts[0]).toMatch(/^CREATE TABLE IF NOT EXISTS `ls`\.`http_counts` \(/);
    expect(stmts[0]).toContain('SummingMergeTree((count, markers))');
    expect(stmts[0]).toContain('PARTITION BY intDiv(minute, 1440)');
    expect(stmts.join('\n')).not.toMatch(/Distributed|_local|\{|TTL|LowCardinality/);
  });
  it('creates local tables plus Distributed ones sharded by (project, domain) / (project, task) in cluster mode', () => {
    const stmts = renderMigration(init, { database: 'ls', cluster: 'c1' });
    expect(stmts).toHaveLength(10);
    expect(stmts[0]).toMatch(/^CREATE TABLE IF NOT EXISTS `ls`\.`http_counts_local` \(/);
    expect(stmts[1]).toBe('CREATE TABLE IF NOT EXISTS `ls`.`http_counts` AS `ls`.`http_counts_local` ENGINE = Distributed(`c1`, `ls`, `http_counts_local`, cityHash64(project, domain))');
    expect(stmts[3]).toContain('Distributed(`c1`, `ls`, `carousel_samples_local`, cityHash64(project, task_id))');
  });
  it('makes every table of every migration a Replicated*MergeTree in the replicated layout, views and Distributed tables as they were', () => {
    const names = { database: 'ls', cluster: 'c1', replicated: true };
    let tables = 0;
    for (const m of loadMigrations('clickhouse')) {
      for (const stmt of renderMigration(m.sql, names)) {
        if (!/^CREATE TABLE/.test(stmt) || /ENGINE = Distributed/.test(stmt)) {
          expect(stmt).not.toContain('Replicated');
          continue;
        }
        tables++;
        const local = /`ls`\.`(\w+)`/.exec(stmt)?.[1] ?? '';
        expect(local).toMatch(/_local$/);
        expect(stmt).toMatch(new RegExp(`ENGINE = Replicated(Summing|Replacing)?MergeTree\\('/clickhouse/tables/\\{shard\\}/ls/${local}', '\\{replica\\}'(\\)|, )`));
        expect(stmt).not.toMatch(/ENGINE = (Summing|Replacing)?MergeTree/);
      }
    }
    // Every MergeTree table the migration files declare (computed: other migrations land in parallel).
    const declared = loadMigrations('clickhouse').reduce((n, m) => n + (m.sql.match(/^CREATE TABLE IF NOT EXISTS \{db\}\.\{t:\w+\} \(/gm)?.length ?? 0), 0);
    expect(declared).toBeGreaterThanOrEqual(20); // 11 before this session, 3 audience (005), 3 origin (006), 1 quality (007), 1 hour stamps (008), 1 origin slots (011)
    expect(tables).toBe(declared);
    const [counts] = renderMigration(init, names);
    expect(counts).toContain("ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/ls/http_counts_local', '{replica}', (count, markers))");
    // Without a cluster there is nothing to replicate through (a Distributed table is the one entry).
    expect(renderMigration(init, { database: 'ls', replicated: true }).join('\n')).not.toContain('Replicated');
  });
  it('renders the DROP of a replaced view (migration 016) for one server, a cluster and the replicated layout, after its replacement is made', () => {
    const m016 = loadMigrations('clickhouse').find((m) => m.name === 'stamps_without_markers');
    expect(m016?.version).toBe(16);
    const sql = m016?.sql ?? '';
    const replaced = ['http_counts_stamps_from_bytes', 'http_counts_stamps_from_v1', 'traffic_stamps_from_domains', 'traffic_day_stamps_from_domains', 'traffic_stream_stamps_from_streams'];
    for (const [names, suffix] of [[{ database: 'ls' }, ''], [{ database: 'ls', cluster: 'c1' }, '_local'], [{ database: 'ls', cluster: 'c1', replicated: true }, '_local']] as const) {
      const stmts = renderMigration(sql, names);
      expect(stmts.filter((s) => s.startsWith('DROP')).sort()).toEqual(replaced.map((v) => `DROP TABLE IF EXISTS \`ls\`.\`${v}${suffix}\``).sort());
      for (const v of replaced) {
        const made = stmts.findIndex((s) => s.startsWith(`CREATE MATERIALIZED VIEW IF NOT EXISTS \`ls\`.\`${v}_v2${suffix}\` TO `));
        expect(made, v).toBeGreaterThanOrEqual(0);
        expect(stmts[made]).toContain('WHERE markers = 0 GROUP BY');
        expect(stmts[made]).not.toContain('Replicated');
        expect(stmts.indexOf(`DROP TABLE IF EXISTS \`ls\`.\`${v}${suffix}\``), v).toBeGreaterThan(made);
      }
      expect(stmts).toHaveLength(2 * replaced.length);
    }
  });
  it('names tables through ident() only', () => {
    expect(table({ database: 'd' }, 'meta')).toBe('`d`.`meta`');
    expect(localTable({ database: 'd', cluster: 'c' }, 'meta')).toBe('`d`.`meta_local`');
    expect(() => renderMigration(init, { database: 'bad-name' })).toThrow();
    expect(() => renderMigration(init, { database: 'd', cluster: 'x;DROP' })).toThrow();
  });
  it('refuses unknown placeholders', () => {
    expect(() => renderMigration('CREATE TABLE {db}.{x:y} (a UInt8) ENGINE = Memory', { database: 'd' })).toThrow(/placeholder/);
  });
});
