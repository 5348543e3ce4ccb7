import type { Aggregator } from './aggregator.js';
import { IntCounts } from './int-counts.js';
import { PACKED_CODES, PACKED_GEOS, type PackedCells } from '../store/packed.js';

const MINUTE = 60_000;
/**
 * A cell key is one small integer (a V8 "small integer", fast as a Map key):
 * slot (a (domain, minute) pair, 12 bits) | geo (8 bits) | code (10 bits).
 */
const SLOTS = 4096;
const GEOS = PACKED_GEOS;
const CODES = PACKED_CODES;

/** Pre-aggregated counts per (domain, minute, region+isp, code), with the traffic cells of the same lines (set by LineProcessor.flushCells). */
export type CellBatch = PackedCells;

/** The (domain, minute) slots of one domain, with the last one used (lines come mostly in time order). */
interface DomainSlots {
  lastMinute: number;
  lastSlot: number;
  byMinute: Map<number, number>;
}

/** Distinct status codes counted densely per slot; further codes go to the hash table. */
const DENSE_CODES = 16;
const GEO_CODES = 35 * 4;
/**
 * Lines a slot counts in the hash table before it gets its dense tables (2 x 17.5 KiB): a slot
 * of a domain with a handful of lines (an upload naming 200,000 domains once each) costs a few
 * hash entries instead of 35 KiB.
 */
const DENSE_AFTER = 64;

/**
 * Counts per (domain, minute) slot in a dense table indexed by geo and the code's rank among
 * the codes seen (lines of a minute touch only a few small tables, which stay in cache), with an
 * integer-keyed hash table for rare extra codes.
 */
export class CellCounter {
  private readonly extra = new IntCounts();
  private dense: Array<Float64Array | undefined> = [];
  private denseBytes: Array<Float64Array | undefined> = [];
  private slotDomains: string[] = [];
  private slotMinutes: number[] = [];
  /** Lines counted per slot while it has no dense tables. */
  private slotLines: number[] = [];
  private readonly domains = new Map<string, DomainSlots>();
  private readonly codeRank = new Int8Array(CODES).fill(-1);
  private codes: number[] = [];
  private cellCount = 0;

  /** Distinct cells held, an upper bound (dense cells counted when first touched; a slot's first lines hashed, then dense). */
  get size(): number {
    return this.cellCount + this.extra.size;
  }

  /** Counts n requests sending `bytes`; false (nothing counted) when no slot is left: drain, then add again. */
  add(domain: string, time: number, geo: number, code: number, n = 1, bytes = 0): boolean {
    const minute = Math.floor(time / MINUTE);
    // The domain string is usually the same object each line (normalizer cache): its hash is cached.
    let d = this.domains.get(domain);
    if (d === undefined) {
      d = { lastMinute: -1, lastSlot: -1, byMinute: new Map() };
      this.domains.set(domain, d);
    }
    let slot = d.lastSlot;
    if (minute !== d.lastMinute) {
      const found = d.byMinute.get(minute);
      if (found === undefined) {
        if (this.slotDomains.length >= SLOTS) return false;
        slot = this.slotDomains.length;
        this.slotDomains.push(domain);
        this.slotMinutes.push(minute * MINUTE);
        this.dense.push(undefined);
        this.denseBytes.push(undefined);
        this.slotLines.push(0);
        d.byMinute.set(minute, slot);
      } else {
        slot = found;
      }
      d.lastMinute = minute;
      d.lastSlot = slot;
    }
    let rank = this.codeRank[code] as number;
    if (rank < 0 && this.codes.length < DENSE_CODES) {
      rank = this.codes.length;
      this.codes.push(code);
      this.codeRank[code] = rank;
    }
    let table = this.dense[slot];
    let byteTable = this.denseBytes[slot];
    if (rank < 0 || (table === undefined && (this.slotLines[slot] = (this.slotLines[slot] as number) + 1) < DENSE_AFTER)) {
      this.extra.add((slot * GEOS + geo) * CODES + code, n, bytes);
      return true;
    }
    if (table === undefined || byteTable === undefined) {
      table = new Float64Array(GEO_CODES * DENSE_CODES);
      byteTable = new Float64Array(GEO_CODES * DENSE_CODES);
      this.dense[slot] = table;
      this.denseBytes[slot] = byteTable;
    }
    const i = geo * DENSE_CODES + rank;
    if (table[i] === 0) this.cellCount++;
    table[i] = (table[i] as number) + n;
    byteTable[i] = (byteTable[i] as number) + bytes;
    return true;
  }

  /** Returns everything counted so far and starts empty. */
  drain(): CellBatch {
    const taken = this.extra.take();
    // Hash entries of a slot counted before it got dense tables join them (each cell once in the batch).
    let extraKeys = taken.keys;
    let extraCounts = taken.counts;
    let extraBytes = taken.bytes;
    let kept = 0;
    for (let e = 0; e < extraKeys.length; e++) {
      const k = extraKeys[e] as number;
      const code = k % CODES;
      const geo = ((k - code) / CODES) % GEOS;
      const slot = (k - code - geo * CODES) / (CODES * GEOS);
      const rank = this.codeRank[code] as number;
      const table = this.dense[slot];
      const byteTable = this.denseBytes[slot];
      if (rank >= 0 && table !== undefined && byteTable !== undefined) {
        const i = geo * DENSE_CODES + rank;
        if (table[i] === 0) this.cellCount++;
        table[i] = (table[i] as number) + (extraCounts[e] as number);
        byteTable[i] = (byteTable[i] as number) + (extraBytes[e] as number);
      } else {
        extraKeys[kept] = k;
        extraCounts[kept] = extraCounts[e] as number;
        extraBytes[kept++] = extraBytes[e] as number;
      }
    }
    extraKeys = extraKeys.subarray(0, kept);
    extraCounts = extraCounts.subarray(0, kept);
    extraBytes = extraBytes.subarray(0, kept);
    const keys = new Int32Array(this.cellCount + extraKeys.length);
    const counts = new Float64Array(keys.length);
    const bytes = new Float64Array(keys.length);
    let j = 0;
    for (let slot = 0; slot < this.dense.length; slot++) {
      const table = this.dense[slot];
      const byteTable = this.denseBytes[slot] as Float64Array;
      if (!table) continue;
      for (let i = 0; i < table.length; i++) {
        const c = table[i] as number;
        if (c === 0) continue;
        const geo = Math.floor(i / DENSE_CODES);
        keys[j] = (slot * GEOS + geo) * CODES + (this.codes[i % DENSE_CODES] as number);
        bytes[j] = byteTable[i] as number;
        counts[j++] = c;
      }
    }
    keys.set(extraKeys, j);
    counts.set(extraCounts, j);
    bytes.set(extraBytes, j);
    const batch = { slotDomains: this.slotDomains, slotMinutes: this.slotMinutes, keys, counts, bytes };
    this.slotDomains = [];
    this.slotMinutes = [];
    this.dense = [];
    this.denseBytes = [];
    this.slotLines = [];
    this.domains.clear();
    this.cellCount = 0;
    return batch;
  }
}

/** Decodes the cells of a batch. */
export function forEachCell(
  batch: CellBatch, fn: (domain: string, minute: number, geo: number, code: number, count: number, bytes: number) => void,
): void {
  for (let i = 0; i < batch.keys.length; i++) {
    const k = batch.keys[i] as number;
    const code = k % CODES;
    const geo = ((k - code) / CODES) % GEOS;
    const slot = (k - code - geo * CODES) / (CODES * GEOS);
    fn(batch.slotDomains[slot] as string, batch.slotMinutes[slot] as number, geo, code, batch.counts[i] as number, batch.bytes[i] as number);
  }
}

/** Feeds a drained batch to the aggregator as whole cells (it keeps the batch). Returns the number of requests added. */
export function addCells(aggregator: Aggregator, project: string, batch: CellBatch): number {
  return aggregator.addPacked(project, batch);
}
