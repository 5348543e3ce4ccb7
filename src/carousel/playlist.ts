import { join } from 'node:path';
import { runChild, type Log } from '../probe/child.js';

/** One playable file of a carousel, as ffprobe saw it. */
export interface PlaylistItem {
  /** The file configured by the user. */
  source: string;
  /** The file actually played (a remuxed copy when its time base had to be normalised). */
  path: string;
  durationSec: number;
  /** Video time base, e.g. "1/12800"; undefined for audio-only files. */
  videoTimeBase: string | undefined;
}

interface ProbeJson {
  format?: { duration?: string };
  streams?: Array<{ codec_type?: string; time_base?: string }>;
}

/** Reads a file's duration and video time base with ffprobe; a string says why it cannot be played. */
export async function inspectFile(path: string, ffprobe = 'ffprobe'): Promise<PlaylistItem | string> {
  const lines: string[] = [];
  const child = runChild(ffprobe, ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,time_base', '-of', 'json', path], (l) => {
    if (lines.length < 200) lines.push(l);
  });
  const exit = await child.exited;
  if (exit.spawnError) return `cannot run ffprobe: ${exit.spawnError}`;
  if (exit.code !== 0) return exit.stderr.at(-1) ?? `ffprobe exited with ${exit.code}`;
  let info: ProbeJson;
  try {
    info = JSON.parse(lines.join('\n')) as ProbeJson;
  } catch {
    return 'ffprobe printed no readable description';
  }
  const streams = info.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video');
  if (!video && !streams.some((s) => s.codec_type === 'audio')) return 'no audio or video stream';
  const durationSec = Number(info.format?.duration);
  if (!Number.isFinite(durationSec) || durationSec <= 0) return 'unknown or zero duration';
  return { source: path, path, durationSec, videoTimeBase: video?.time_base };
}

/** The ffconcat list that plays `items` in order. */
export function concatList(items: readonly PlaylistItem[]): string {
  const quote = (p: string): string => `'${p.replace(/'/g, "'\\''")}'`;
  return ['ffconcat version 1.0', ...items.map((i) => `file ${quote(i.path)}`), ''].join('\n');
}

/** The playlist rotated to start at `index`. */
export function rotate<T>(items: readonly T[], index: number): T[] {
  const n = items.length;
  const k = ((index % n) + n) % n;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** Which item plays `positionSec` into a run of `items` (looping), and how far into it. */
export function locate(items: readonly PlaylistItem[], positionSec: number): { index: number; intoSec: number } {
  const total = items.reduce((s, i) => s + i.durationSec, 0);
  let pos = total > 0 ? Math.max(0, positionSec) % total : 0;
  for (let index = 0; index < items.length; index++) {
    const d = (items[index] as PlaylistItem).durationSec;
    if (pos < d) return { index, intoSec: pos };
    pos -= d;
  }
  return { index: Math.max(0, items.length - 1), intoSec: 0 };
}

const COMMON_VIDEO_TIME_BASE = 90000;

/**
 * Concat with stream copy reads every file's timestamps in the first file's time base, so a
 * 30 fps file after a 25 fps one whose time bases differ plays at the wrong speed. Files whose
 * video time base differs from the others are remuxed (stream copy, cheap) to 1/90000 in workDir.
 */
export async function normaliseTimeBases(
  items: PlaylistItem[], workDir: string, log: Log, ffmpeg = 'ffmpeg',
): Promise<PlaylistItem[]> {
  const bases = new Set(items.map((i) => i.videoTimeBase).filter((b) => b !== undefined));
  if (bases.size <= 1) return items;
  const out: PlaylistItem[] = [];
  for (const [n, item] of items.entries()) {
    if (item.videoTimeBase === `1/${COMMON_VIDEO_TIME_BASE}` || item.videoTimeBase === undefined) {
      out.push(item);
      continue;
    }
    const target = join(workDir, `normalised-${n}.mp4`);
    const child = runChild(ffmpeg, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-i', item.path,
      '-map', '0:v?', '-map', '0:a?', '-c', 'copy', '-video_track_timescale', String(COMMON_VIDEO_TIME_BASE), target], () => {});
    const exit = await child.exited;
    if (exit.code !== 0) {
      log.error({ file: item.source, stderr: exit.stderr }, `carousel: skipping ${item.source}: cannot remux it to a common time base`);
      continue;
    }
    log.info({ file: item.source, from: item.videoTimeBase }, 'carousel: remuxed to video time base 1/90000 for gapless concat');
    out.push({ ...item, path: target, videoTimeBase: `1/${COMMON_VIDEO_TIME_BASE}` });
  }
  return out;
}

/** Inspects every file, logs and skips the broken ones, and normalises time bases. */
export async function preparePlaylist(
  files: readonly string[], workDir: string, log: Log, tools: { ffmpeg?: string; ffprobe?: string } = {},
): Promise<PlaylistItem[]> {
  const items: PlaylistItem[] = [];
  for (const file of files) {
    const r = await inspectFile(file, tools.ffprobe);
    if (typeof r === 'string') log.error({ file, why: r }, `carousel: skipping broken file ${file}: ${r}`);
    else items.push(r);
  }
  return normaliseTimeBases(items, workDir, log, tools.ffmpeg);
}
