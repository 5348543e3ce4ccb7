/**
 * The packet records ffprobe streams while it reads a live input, one line each:
 * `ffprobe -show_entries packet=codec_type,dts_time,pts_time,size -of compact=p=0`
 * prints e.g. `codec_type=video|pts_time=12.063000|dts_time=12.023000|size=1763`.
 */

export type PacketKind = 'video' | 'audio';

export interface Packet {
  kind: PacketKind;
  /** Stream timestamp in seconds (dts, or pts when the container gives no dts). */
  time: number;
  /** Payload bytes (container overhead excluded). */
  bytes: number;
}

/** The ffprobe arguments that produce the lines `parsePacketLine` reads. */
export const PACKET_ENTRIES = ['-show_entries', 'packet=codec_type,dts_time,pts_time,size', '-of', 'compact=p=0'];

const MAX_LINE = 512;

/** Parses one ffprobe packet line; null for anything else (subtitles, data streams, noise). */
export function parsePacketLine(line: string): Packet | null {
  if (line.length === 0 || line.length > MAX_LINE) return null;
  let kind: PacketKind | undefined;
  let dts: number | undefined;
  let pts: number | undefined;
  let bytes: number | undefined;
  for (const field of line.split('|')) {
    const eq = field.indexOf('=');
    if (eq <= 0) continue;
    const key = field.slice(0, eq);
    const value = field.slice(eq + 1);
    if (key === 'codec_type') {
      if (value === 'video' || value === 'audio') kind = value;
      else return null;
    } else if (key === 'dts_time') dts = num(value);
    else if (key === 'pts_time') pts = num(value);
    else if (key === 'size') bytes = num(value);
  }
  const time = dts ?? pts;
  if (kind === undefined || time === undefined || bytes === undefined) return null;
  if (!Number.isInteger(bytes) || bytes < 0) return null;
  return { kind, time, bytes };
}

function num(text: string): number | undefined {
  if (!/^-?\d+(\.\d+)?$/.test(text)) return undefined; // "N/A" and garbage
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}
