import type { CarouselSample } from '../contract/carousel.js';
import type { Packet } from './packets.js';

const SECOND = 1000;
const floorSecond = (ms: number): number => Math.floor(ms / SECOND) * SECOND;

export interface BucketerOptions {
  /** Second S is first reported at S + 1 s + emitDelayMs (packets may arrive that late). */
  emitDelayMs?: number;
  /** Packets arriving later than their mapped time by more than this start a new anchor. */
  maxLagMs?: number;
  /** A packet is placed in a second only this long after it arrived, once the anchor has settled. */
  settleMs?: number;
  /** Reported seconds stay correctable (re-reported with late packets) this long. */
  retentionMs?: number;
}

export interface BucketerStats {
  packets: number;
  /** Packets mapped before the connection began (a server's GOP cache, replayed at connect). */
  beforeConnect: number;
  /** Packets that arrived after their second could no longer be corrected. */
  late: number;
  /** Times the stream-to-wall-clock anchor was reset (stall, timestamp jump, reconnect). */
  reanchors: number;
}

interface Anchor {
  /** wall ms = stream ms + offset; the smallest (arrival - stream time) seen in this anchor. */
  offset: number;
}

interface Pending {
  packet: Packet;
  arrival: number;
  anchor: Anchor;
}

interface Counts {
  videoFrames: number;
  videoBytes: number;
  audioFrames: number;
  audioBytes: number;
}

/**
 * Turns a live stream's packets into one sample per wall-clock second.
 *
 * Packets are bucketed by their stream timestamp mapped onto the wall clock, not by the
 * moment ffprobe printed them: the mapping offset is the smallest (arrival - timestamp)
 * seen, i.e. the path with the least buffering. Data a server replays at connect (GOP
 * cache) or that ffprobe held back while probing arrives early relative to its timestamp,
 * so it maps to the past: before the connection began it is dropped, otherwise it lands in
 * the second it was actually live in and never piles up into one spike. A stall or a
 * timestamp jump back (publisher restart) shows as packets arriving more than `maxLagMs`
 * behind their mapping and starts a new anchor, so stalled seconds stay zero.
 * Every second from `startMs` on is reported exactly once, as zeros when nothing arrived,
 * and again if late packets change it while it is still within `retentionMs`.
 */
export class SecondBucketer {
  readonly stats: BucketerStats = { packets: 0, beforeConnect: 0, late: 0, reanchors: 0 };
  private readonly emitDelayMs: number;
  private readonly maxLagMs: number;
  private readonly settleMs: number;
  private readonly retentionMs: number;
  private anchor: Anchor | undefined;
  private firstAllowed = Infinity;
  private nextEmit: number;
  private pending: Pending[] = [];
  private readonly buckets = new Map<number, Counts>();
  private readonly dirty = new Set<number>();

  constructor(startMs: number, options: BucketerOptions = {}) {
    this.emitDelayMs = options.emitDelayMs ?? 3000;
    this.maxLagMs = options.maxLagMs ?? 2000;
    this.settleMs = options.settleMs ?? 1000;
    this.retentionMs = options.retentionMs ?? 30_000;
    this.nextEmit = floorSecond(startMs);
  }

  /** A new connection: the next packet starts a fresh anchor; only whole seconds after `nowMs` count. */
  connect(nowMs: number): void {
    this.place(Infinity);
    this.anchor = undefined;
    this.firstAllowed = floorSecond(nowMs) + SECOND;
  }

  packet(packet: Packet, arrivalMs: number): void {
    this.stats.packets++;
    const d = arrivalMs - packet.time * SECOND;
    if (this.anchor === undefined) {
      this.anchor = { offset: d };
    } else if (d < this.anchor.offset) {
      this.anchor.offset = d;
    } else if (d - this.anchor.offset > this.maxLagMs) {
      this.anchor = { offset: d };
      this.stats.reanchors++;
    }
    this.pending.push({ packet, arrival: arrivalMs, anchor: this.anchor });
  }

  /** Places settled packets and returns the samples due at `nowMs` (corrections first). */
  tick(nowMs: number): CarouselSample[] {
    this.place(nowMs - this.settleMs);
    const out: CarouselSample[] = [];
    for (const second of [...this.dirty].sort((a, b) => a - b)) out.push(this.sample(second));
    this.dirty.clear();
    while (this.nextEmit + SECOND + this.emitDelayMs <= nowMs) {
      out.push(this.sample(this.nextEmit));
      this.nextEmit += SECOND;
    }
    for (const second of this.buckets.keys()) {
      if (second < this.nextEmit - this.retentionMs) this.buckets.delete(second);
    }
    return out;
  }

  private place(arrivedBy: number): void {
    let i = 0;
    for (; i < this.pending.length; i++) {
      const p = this.pending[i] as Pending;
      if (p.arrival > arrivedBy) break;
      const second = floorSecond(p.packet.time * SECOND + p.anchor.offset);
      if (second < this.firstAllowed) {
        this.stats.beforeConnect++;
        continue;
      }
      if (second < this.nextEmit - this.retentionMs) {
        this.stats.late++;
        continue;
      }
      let c = this.buckets.get(second);
      if (!c) {
        c = { videoFrames: 0, videoBytes: 0, audioFrames: 0, audioBytes: 0 };
        this.buckets.set(second, c);
      }
      if (p.packet.kind === 'video') {
        c.videoFrames++;
        c.videoBytes += p.packet.bytes;
      } else {
        c.audioFrames++;
        c.audioBytes += p.packet.bytes;
      }
      if (second < this.nextEmit) this.dirty.add(second);
    }
    this.pending = this.pending.slice(i);
  }

  private sample(second: number): CarouselSample {
    const c = this.buckets.get(second);
    if (!c) return { second, videoFps: 0, videoKbps: 0, audioFps: 0, audioKbps: 0 };
    return {
      second,
      videoFps: c.videoFrames,
      videoKbps: Math.round((c.videoBytes * 8) / 1000),
      audioFps: c.audioFrames,
      audioKbps: Math.round((c.audioBytes * 8) / 1000),
    };
  }
}
