import type Database from 'better-sqlite3';
import { appendCell, newCells } from './cube-cells.js';
import { HTTP_CUBE, ISP_INDEX, REGION_INDEX, SAMPLES, SAMPLE_BLOCK_SECONDS } from './layout.js';
import { layoutMeta } from './layout-meta.js';

const CHUNK = 50_000;
type Row = [number, string, string, number, number, number];
type SampleRowV1 = [number, number, number, number, number, number];

/**
 * Schema v2: moves v1's one-row-per-cell tables into blocks (docs/storage.md). Runs inside the
 * migration's transaction: any failure (an unknown region, a full disk) rolls back to v1 intact.
 * v1 logged no bytes: migrated cells carry 0 bytes.
 */
export function migrateToBlocks(db: Database.Database): void {
  db.exec(HTTP_CUBE.ddl());
  db.exec(SAMPLES.ddl());
  const putSeries = db.prepare(`INSERT INTO ${HTTP_CUBE.seriesTable} (id, key) VALUES (?, ?)`);
  const seriesRows = db.prepare('SELECT id, project, domain FROM series ORDER BY id').raw().all() as Array<[number, string, string]>;
  for (const [id, project, domain] of seriesRows) putSeries.run(id, JSON.stringify([project, domain]));
  const cells = newCells(CHUNK);
  const flush = (): void => {
    if (cells.count === 0) return;
    HTTP_CUBE.write(db, cells);
    cells.count = 0;
  };
  // Pages in primary-key order (a connection cannot write while it iterates).
  const first = db.prepare('SELECT series, region, isp, minute, code, count FROM http_counts ORDER BY series, region, isp, minute, code LIMIT ?').raw();
  const next = db.prepare(`SELECT series, region, isp, minute, code, count FROM http_counts
    WHERE (series, region, isp, minute, code) > (?, ?, ?, ?, ?) ORDER BY series, region, isp, minute, code LIMIT ?`).raw();
  for (let page = first.all(CHUNK) as Row[]; page.length > 0; ) {
    for (const row of page) addRow(row);
    flush();
    const last = page[page.length - 1] as Row;
    page = next.all(last[0], last[1], last[2], last[3], last[4], CHUNK) as Row[];
  }
  function addRow(row: Row): void {
    const [series, region, isp, minute, code, count] = row;
    const r = REGION_INDEX.get(region);
    const i = ISP_INDEX.get(isp);
    if (r === undefined || i === undefined) {
      throw new Error(`http_counts holds an unknown ${r === undefined ? `region "${region}"` : `isp "${isp}"`} (series ${series}, minute ${minute})`);
    }
    if (!Number.isSafeInteger(count) || count < 0) throw new Error(`http_counts holds a bad count ${count} (series ${series}, minute ${minute})`);
    if (!Number.isInteger(code) || code < 100 || code > 599) throw new Error(`http_counts holds a bad status code ${code} (series ${series}, minute ${minute})`);
    appendCell(cells, series, minute, r, i, code, count, 0);
  }
  let current: { task: number; block: number; b: ReturnType<typeof SAMPLES.newBuilder> } | undefined;
  const put = (): void => {
    if (current) SAMPLES.put(db, current.task, 0, current.block, current.b.encode());
  };
  const firstSamples = db.prepare('SELECT task, second, video_fps, video_kbps, audio_fps, audio_kbps FROM carousel_samples ORDER BY task, second LIMIT ?').raw();
  const nextSamples = db.prepare(`SELECT task, second, video_fps, video_kbps, audio_fps, audio_kbps FROM carousel_samples
    WHERE (task, second) > (?, ?) ORDER BY task, second LIMIT ?`).raw();
  for (let page = firstSamples.all(CHUNK) as SampleRowV1[]; page.length > 0; ) {
    for (const row of page) addSample(row);
    const last = page[page.length - 1] as SampleRowV1;
    page = nextSamples.all(last[0], last[1], CHUNK) as SampleRowV1[];
  }
  function addSample(row: SampleRowV1): void {
    const [task, second, ...values] = row;
    if (values.some((v) => !Number.isSafeInteger(v) || v < 0)) throw new Error(`carousel_samples holds a bad value (task ${task}, second ${second})`);
    const block = Math.floor(second / SAMPLE_BLOCK_SECONDS);
    if (!current || current.task !== task || current.block !== block) {
      put();
      current = { task, block, b: SAMPLES.newBuilder() };
    }
    current.b.add(0, second - block * SAMPLE_BLOCK_SECONDS, values);
  }
  put();
  db.exec('DROP TABLE http_counts; DROP TABLE http_counts_total; DROP TABLE carousel_samples; DROP TABLE series;');
  db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run('layout', layoutMeta());
}
