import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ISPS } from '../../contract/values.js';
import type {
  CarouselSample, CodeCount, HttpCodesFilter, QueryOptions, SampleFilter, Store, TaskInfo, WriteBatch,
} from '../types.js';
import { migrateSqlite } from './migrate.js';

const MIN = 60_000;
const SEC = 1000;
const placeholders = (n: number): string => new Array<string>(n).fill('?').join(',');

/**
 * The embedded store: one SQLite file in WAL mode, written in one transaction per batch.
 * Reads run synchronously, so a read for a client that has gone (QueryOptions.signal) is not
 * started, and its result is dropped if the signal aborted meanwhile.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly seriesIds = new Map<string, number>();
  private readonly taskIds = new Map<string, number>();
  private readonly statements = new Map<string, Database.Statement>();

  constructor(readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
  }

  async init(): Promise<void> {
    migrateSqlite(this.db);
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  private seriesId(project: string, domain: string, create: boolean): number | undefined {
    const key = project + '\u0000' + domain;
    const cached = this.seriesIds.get(key);
    if (cached !== undefined) return cached;
    if (create) this.stmt('INSERT OR IGNORE INTO series (project, domain) VALUES (?, ?)').run(project, domain);
    const id = this.stmt('SELECT id FROM series WHERE project = ? AND domain = ?').pluck().get(project, domain) as
      | number
      | undefined;
    if (id !== undefined) this.seriesIds.set(key, id);
    return id;
  }

  private taskRef(project: string, taskId: string, createdAt?: number): number | undefined {
    const key = project + '\u0000' + taskId;
    const cached = this.taskIds.get(key);
    if (cached !== undefined) return cached;
    if (createdAt !== undefined) {
      this.stmt('INSERT OR IGNORE INTO carousel_tasks (project, task_id, created_at) VALUES (?, ?, ?)').run(
        project, taskId, createdAt,
      );
    }
    const id = this.stmt('SELECT id FROM carousel_tasks WHERE project = ? AND task_id = ?').pluck().get(
      project, taskId,
    ) as number | undefined;
    if (id !== undefined) this.taskIds.set(key, id);
    return id;
  }

  async write(batch: WriteBatch): Promise<void> {
    const now = Date.now();
    const upsertCount = this.stmt(
      `INSERT INTO http_counts (series, region, isp, minute, code, count) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (series, region, isp, minute, code) DO UPDATE SET count = count + excluded.count`,
    );
    const upsertTotal = this.stmt(
      `INSERT INTO http_counts_total (series, minute, code, count) VALUES (?, ?, ?, ?)
       ON CONFLICT (series, minute, code) DO UPDATE SET count = count + excluded.count`,
    );
    const upsertSample = this.stmt(
      `INSERT INTO carousel_samples (task, second, video_fps, video_kbps, audio_fps, audio_kbps)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (task, second) DO UPDATE SET video_fps = excluded.video_fps, video_kbps = excluded.video_kbps,
         audio_fps = excluded.audio_fps, audio_kbps = excluded.audio_kbps`,
    );
    const touchTask = this.stmt(
      'UPDATE carousel_tasks SET last_sample_at = max(coalesce(last_sample_at, 0), ?) WHERE id = ?',
    );
    const putCheckpoint = this.stmt(
      'INSERT OR REPLACE INTO checkpoints (key, value, updated_at) VALUES (?, ?, ?)',
    );
    this.db.transaction(() => {
      const totals = new Map<string, [number, number, number, number]>();
      for (const r of batch.counts) {
        const series = this.seriesId(r.project, r.domain, true) as number;
        const minute = Math.floor(r.minute / MIN);
        upsertCount.run(series, r.region, r.isp, minute, r.code, r.count);
        const k = `${series}:${minute}:${r.code}`;
        const t = totals.get(k);
        if (t) t[3] += r.count;
        else totals.set(k, [series, minute, r.code, r.count]);
      }
      for (const t of totals.values()) upsertTotal.run(t[0], t[1], t[2], t[3]);
      for (const t of batch.tasks) this.taskRef(t.project, t.taskId, now);
      const newest = new Map<number, number>();
      for (const s of batch.samples) {
        const task = this.taskRef(s.project, s.taskId, now) as number;
        const second = Math.floor(s.second / SEC);
        upsertSample.run(task, second, s.videoFps, s.videoKbps, s.audioFps, s.audioKbps);
        if ((newest.get(task) ?? -Infinity) < second) newest.set(task, second);
      }
      for (const [task, second] of newest) touchTask.run(second, task);
      for (const c of batch.checkpoints) putCheckpoint.run(c.key, c.value, now);
    })();
  }

  async queryHttpCodes(f: HttpCodesFilter, o: QueryOptions = {}): Promise<CodeCount[]> {
    o.signal?.throwIfAborted();
    const series: number[] = [];
    for (const d of f.domains) {
      const id = this.seriesId(f.project, d, false);
      if (id !== undefined) series.push(id);
    }
    if (series.length === 0 || f.toMinute <= f.fromMinute) return [];
    const from = Math.floor(f.fromMinute / MIN);
    const to = Math.ceil(f.toMinute / MIN);
    let rows: Array<[number, number, number]>;
    if (f.regions.length === 0 && f.isps.length === 0) {
      const sql = `SELECT minute, code, sum(count) FROM http_counts_total
        WHERE series IN (${placeholders(series.length)}) AND minute >= ? AND minute < ?
        GROUP BY minute, code`;
      rows = this.stmt(sql).raw().all(...series, from, to) as Array<[number, number, number]>;
    } else {
      // Without a region (or isp) filter, list every value so the primary key is used for seeks.
      const isps: string[] = f.isps.length > 0 ? f.isps : [...ISPS];
      const regionClause = f.regions.length > 0 ? `region IN (${placeholders(f.regions.length)})` : '1';
      const sql = `SELECT minute, code, sum(count) FROM http_counts
        WHERE series IN (${placeholders(series.length)}) AND ${regionClause}
          AND isp IN (${placeholders(isps.length)}) AND minute >= ? AND minute < ?
        GROUP BY minute, code`;
      rows = this.stmt(sql).raw().all(...series, ...f.regions, ...isps, from, to) as Array<[number, number, number]>;
    }
    o.signal?.throwIfAborted();
    return rows.map(([minute, code, count]) => ({ minute: minute * MIN, code, count }));
  }

  async querySamples(f: SampleFilter, o: QueryOptions = {}): Promise<CarouselSample[]> {
    o.signal?.throwIfAborted();
    const task = this.taskRef(f.project, f.taskId);
    if (task === undefined) return [];
    const rows = this.stmt(
      `SELECT second, video_fps, video_kbps, audio_fps, audio_kbps FROM carousel_samples
       WHERE task = ? AND second >= ? AND second < ? ORDER BY second`,
    ).raw().all(task, Math.floor(f.from / SEC), Math.ceil(f.to / SEC)) as Array<[number, number, number, number, number]>;
    o.signal?.throwIfAborted();
    return rows.map(([second, videoFps, videoKbps, audioFps, audioKbps]) => ({
      second: second * SEC, videoFps, videoKbps, audioFps, audioKbps,
    }));
  }

  async taskExists(project: string, taskId: string, o: QueryOptions = {}): Promise<boolean> {
    o.signal?.throwIfAborted();
    return this.taskRef(project, taskId) !== undefined;
  }

  async listTasks(project: string): Promise<TaskInfo[]> {
    const rows = this.stmt(
      'SELECT task_id, created_at, last_sample_at FROM carousel_tasks WHERE project = ? ORDER BY task_id',
    ).raw().all(project) as Array<[string, number, number | null]>;
    return rows.map(([taskId, createdAt, last]) => ({
      taskId, createdAt, lastSampleAt: last === null ? null : last * SEC,
    }));
  }

  async getCheckpoint(key: string): Promise<string | undefined> {
    return this.stmt('SELECT value FROM checkpoints WHERE key = ?').pluck().get(key) as string | undefined;
  }

  async getMeta(key: string): Promise<string | undefined> {
    return this.stmt('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.stmt('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value);
  }

  async deleteBefore(cutoff: number): Promise<void> {
    const minute = Math.floor(cutoff / MIN);
    const second = Math.floor(cutoff / SEC);
    this.db.transaction(() => {
      this.stmt('DELETE FROM http_counts WHERE minute < ?').run(minute);
      this.stmt('DELETE FROM http_counts_total WHERE minute < ?').run(minute);
      this.stmt('DELETE FROM carousel_samples WHERE second < ?').run(second);
    })();
  }

  async deleteCheckpointsBefore(prefix: string, cutoff: number): Promise<void> {
    // Range on the primary key instead of LIKE (whose wildcards a prefix could contain).
    this.stmt('DELETE FROM checkpoints WHERE key >= ? AND key < ? AND updated_at < ?').run(prefix, prefix + '\uffff', cutoff);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
