import type { QueryOptions } from '../types.js';
import { storedValue, type QualityFilter, type QualityRow, type QualitySample, type StreamQualityStore } from '../stream-quality.js';
import { num, type ChConnection, type ExecOptions } from './client.js';
import { table, type SchemaNames } from './schema.js';
import { quote } from './sql.js';
import { lastPerKey, VersionClock } from './versions.js';

const SEC = 1000;
/** Rows per INSERT statement. */
const CHUNK = 5000;

/** Per-second stream quality in ClickHouse (migrations/007_stream_quality.sql), read as carousel samples are. */
export class ClickHouseStreamQuality implements StreamQualityStore {
  /** A later write of a second wins (as carousel samples' version; versions.ts). */
  private readonly clock = new VersionClock();

  constructor(
    private readonly server: ChConnection,
    private readonly names: SchemaNames,
    private readonly insertSettings: ExecOptions['settings'] = {},
  ) {}

  private get t(): string {
    return table(this.names, 'stream_quality');
  }

  async writeQuality(written: readonly QualityRow[]): Promise<void> {
    if (written.length === 0) return;
    const version = this.clock.next();
    // One version per write, so one row per second of a stream: the later one (versions.ts).
    const rows = lastPerKey(written, (r) => `${r.project}\u0000${r.domain}\u0000${r.app}\u0000${r.stream}\u0000${Math.floor(r.second / SEC)}`);
    for (let at = 0; at < rows.length; at += CHUNK) {
      const values = rows.slice(at, at + CHUNK).map((r) => '(' + [
        quote(r.project), quote(r.domain), quote(r.app), quote(r.stream), quote(Math.floor(r.second / SEC)), quote(version),
        quote(storedValue(r.videoFps)), quote(storedValue(r.videoKbps)), quote(storedValue(r.audioFps)), quote(storedValue(r.audioKbps)),
        quote(storedValue(r.gopMs)), quote(storedValue(r.lastVideoPtsMs)), quote(storedValue(r.lastAudioPtsMs)), quote(storedValue(r.delayMs)),
      ].join(', ') + ')');
      await this.server.exec(`INSERT INTO ${this.t} (project, domain, app, stream, second, version, video_fps, video_kbps, audio_fps, audio_kbps,
        gop_ms, video_pts, audio_pts, delay_ms) VALUES ${values.join(', ')}`, { settings: this.insertSettings });
    }
  }

  async queryQuality(f: QualityFilter, o: QueryOptions = {}): Promise<QualitySample[]> {
    if (f.to <= f.from) return [];
    const rows = await this.server.rows(`SELECT second,
        argMax(video_fps, version) AS vf, argMax(video_kbps, version) AS vk, argMax(audio_fps, version) AS af, argMax(audio_kbps, version) AS ak,
        argMax(gop_ms, version) AS g, argMax(video_pts, version) AS vp, argMax(audio_pts, version) AS ap, argMax(delay_ms, version) AS d
      FROM ${this.t}
      WHERE project = ${quote(f.project)} AND domain = ${quote(f.domain)} AND app = ${quote(f.app)} AND stream = ${quote(f.stream)}
        AND second >= ${quote(Math.floor(f.from / SEC))} AND second < ${quote(Math.ceil(f.to / SEC))}
      GROUP BY second ORDER BY second`, o.signal);
    return rows.map((r) => ({
      second: num(r.second) * SEC, videoFps: num(r.vf), videoKbps: num(r.vk), audioFps: num(r.af), audioKbps: num(r.ak),
      gopMs: num(r.g), lastVideoPtsMs: num(r.vp), lastAudioPtsMs: num(r.ap), delayMs: num(r.d),
    }));
  }
}
