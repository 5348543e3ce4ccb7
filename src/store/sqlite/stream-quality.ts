import type Database from 'better-sqlite3';
import { QUALITY_MEASURES, type QualitySample } from '../../contract/origin/series.js';
import { addAllMeasures } from '../blocks/codec.js';
import { BlockTable, cachedStatement } from '../blocks/table.js';
import { storedValue, type QualityFilter, type QualityRow } from '../stream-quality.js';
import { SAMPLE_BLOCK_SECONDS, SECOND_MS } from './layout.js';

/**
 * Per-second stream quality in the carousel samples' layout (layout.ts, SAMPLES): a block per
 * (stream, 10 minutes) of per-second values, a later sample replacing the same second; eight measures
 * (QUALITY_MEASURES) instead of four. Streams are interned in quality_streams.
 */
export const QUALITY = new BlockTable('quality_blocks', SAMPLE_BLOCK_SECONDS, QUALITY_MEASURES.length, 'replace', { block: 24, grp: 0 });

/** SQLite migration 9 (issue 23, stream quality). */
export function createQualityTables(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS quality_streams (
      id INTEGER PRIMARY KEY, project TEXT NOT NULL, domain TEXT NOT NULL, app TEXT NOT NULL, stream TEXT NOT NULL,
      UNIQUE (project, domain, app, stream));
    ${QUALITY.ddl()}`);
}

function streamId(db: Database.Database, k: Pick<QualityFilter, 'project' | 'domain' | 'app' | 'stream'>, create: boolean): number | undefined {
  const get = cachedStatement(db, 'SELECT id FROM quality_streams WHERE project = ? AND domain = ? AND app = ? AND stream = ?').pluck();
  const found = get.get(k.project, k.domain, k.app, k.stream) as number | undefined;
  if (found !== undefined || !create) return found;
  return Number(cachedStatement(db, 'INSERT INTO quality_streams (project, domain, app, stream) VALUES (?, ?, ?, ?)')
    .run(k.project, k.domain, k.app, k.stream).lastInsertRowid);
}

/** Writes the rows in one transaction, each block merged once. */
export function writeQuality(db: Database.Database, rows: readonly QualityRow[]): void {
  db.transaction(() => {
    const blocks = new Map<string, { series: number; block: number; b: ReturnType<typeof QUALITY.newBuilder> }>();
    const ids = new Map<string, number>();
    const v = new Float64Array(QUALITY_MEASURES.length);
    for (const r of rows) {
      const key = JSON.stringify([r.project, r.domain, r.app, r.stream]);
      let series = ids.get(key);
      if (series === undefined) ids.set(key, (series = streamId(db, r, true) as number));
      const second = Math.floor(r.second / SECOND_MS);
      const block = Math.floor(second / SAMPLE_BLOCK_SECONDS);
      const k = `${series}:${block}`;
      let e = blocks.get(k);
      if (!e) blocks.set(k, (e = { series, block, b: QUALITY.newBuilder() }));
      QUALITY_MEASURES.forEach((m, i) => { v[i] = storedValue(r[m]); });
      e.b.add(0, second - block * SAMPLE_BLOCK_SECONDS, v);
    }
    for (const e of blocks.values()) QUALITY.merge(db, e.series, 0, e.block, e.b);
  }).immediate();
}

/** The stored seconds of [from, to), oldest first (in a read worker). */
export function readQuality(db: Database.Database, f: QualityFilter): QualitySample[] {
  const from = Math.floor(f.from / SECOND_MS);
  const to = Math.ceil(f.to / SECOND_MS);
  const n = Math.max(0, to - from);
  const series = n === 0 ? undefined : streamId(db, f, false);
  if (series === undefined) return [];
  const width = QUALITY_MEASURES.length;
  const present = new Uint8Array(n);
  const values = new Float64Array(n * width);
  QUALITY.scan(db, [series], [0], Math.floor(from / SAMPLE_BLOCK_SECONDS), Math.ceil(to / SAMPLE_BLOCK_SECONDS), (block, data) => {
    addAllMeasures(data, block * SAMPLE_BLOCK_SECONDS - from, width, values, present);
  });
  const out: QualitySample[] = [];
  for (let i = 0; i < n; i++) {
    if (present[i] === 0) continue;
    // A literal of one shape (in QUALITY_MEASURES order), not properties added one by one: ~21,600 per 6 hours.
    const o = i * width;
    out.push({
      second: (from + i) * SECOND_MS, videoFps: values[o] as number, videoKbps: values[o + 1] as number, audioFps: values[o + 2] as number,
      audioKbps: values[o + 3] as number, gopMs: values[o + 4] as number, lastVideoPtsMs: values[o + 5] as number,
      lastAudioPtsMs: values[o + 6] as number, delayMs: values[o + 7] as number,
    });
  }
  return out;
}

/** Deletes quality blocks that end before the cutoff (whole blocks), a short slice per transaction, yielding to the event loop between slices. */
export async function deleteQualityBefore(db: Database.Database, cutoff: number, pause: () => Promise<void> = () => new Promise((r) => setImmediate(r))): Promise<void> {
  const beforeBlock = Math.floor(Math.floor(cutoff / SECOND_MS) / SAMPLE_BLOCK_SECONDS);
  while (QUALITY.deleteSlice(db, beforeBlock, 256) > 0) await pause();
}
