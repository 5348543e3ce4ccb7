import type { CarouselSample } from '../contract/carousel.js';
import type { QualitySample } from '../contract/origin/series.js';
import { PACKET_ENTRIES, parsePacketLine } from '../probe/packets.js';

/** The carousel probe's packet fields plus `flags` (K = key frame). */
export const QUALITY_ENTRIES = ['-show_entries', 'packet=codec_type,dts_time,pts_time,size,flags', ...PACKET_ENTRIES.slice(2)];

/** A timestamp jump larger than this (back or forward) means the stream restarted: the delay baseline starts again. */
const JUMP_MS = 10_000;

/**
 * What the per-second samples of the carousel probe lack for ListUpStreamDetail, from the same packet
 * lines: the last video and audio timestamps (pts, ms), the duration of the last complete GOP (from one
 * video key frame to the next, ms) and the delay: wall-clock time since the first packet of the
 * connection minus the stream's timestamp progress since then (ms, >= 0). A stream that is produced in
 * real time keeps the delay near its buffering; a publisher falling behind makes it grow. The values a
 * second reports are the state when the second is reported (the carousel probe reports second S about
 * 4 s after S began).
 */
export class QualityTracker {
  private lastVideoPts = 0;
  private lastAudioPts = 0;
  private lastKeyPts: number | null = null;
  private gop = 0;
  private base: { wall: number; ts: number } | null = null;
  private newestTs = 0;
  private newestAt = 0;

  /** A new connection: timestamps may start again. */
  reset(): void {
    this.lastKeyPts = null;
    this.base = null;
  }

  line(text: string, at: number): void {
    const packet = parsePacketLine(text);
    if (!packet) return;
    const pts = ptsOf(text) ?? packet.time;
    const ms = Math.round(pts * 1000);
    const ts = Math.round(packet.time * 1000);
    if (this.base === null || Math.abs(ts - this.newestTs) > JUMP_MS) {
      this.base = { wall: at, ts };
      this.lastKeyPts = null;
      this.newestTs = ts;
    }
    if (ts > this.newestTs) this.newestTs = ts;
    this.newestAt = at;
    if (packet.kind === 'audio') {
      this.lastAudioPts = ms;
      return;
    }
    this.lastVideoPts = ms;
    if (isKey(text)) {
      if (this.lastKeyPts !== null && ms > this.lastKeyPts) this.gop = ms - this.lastKeyPts;
      this.lastKeyPts = ms;
    }
  }

  /** ms; 0 before the first packet. */
  delay(): number {
    if (this.base === null) return 0;
    return Math.max(0, this.newestAt - this.base.wall - (this.newestTs - this.base.ts));
  }

  /** A carousel sample completed with the tracker's state. */
  complete(s: CarouselSample): QualitySample {
    return {
      ...s, gopMs: this.gop, lastVideoPtsMs: Math.max(0, this.lastVideoPts), lastAudioPtsMs: Math.max(0, this.lastAudioPts), delayMs: this.delay(),
    };
  }
}

function field(text: string, key: string): string | undefined {
  for (const f of text.split('|')) if (f.startsWith(`${key}=`)) return f.slice(key.length + 1);
  return undefined;
}
const isKey = (text: string): boolean => (field(text, 'flags') ?? '').startsWith('K');
function ptsOf(text: string): number | undefined {
  const v = field(text, 'pts_time');
  if (v === undefined || !/^-?\d+(\.\d+)?$/.test(v)) return undefined;
  return Number(v);
}
