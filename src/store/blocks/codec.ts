import { MAX_CELL_VALUE } from '../cell-values.js';
import { BlockFormatError, ByteReader, ByteWriter } from './varint.js';

export { BlockFormatError } from './varint.js';

/**
 * One block: the cells of one (series, group, time block) as a sparse (key, slot) -> measures map.
 * Layout (docs/storage.md): version byte, measure count byte, varint slot count, varint key count,
 * a directory of keys (delta-coded) each with its slots (a bitmap or delta-coded list, whichever is
 * smaller), varint byte lengths of the measure streams (they must end the block exactly), then one varint stream per
 * measure with a value for every cell in (key, slot) order. A reader that needs one measure skips
 * the others without decoding them.
 */
export const BLOCK_FORMAT_VERSION = 2;
/** Versions this build decodes (1: plain measure streams; 2: each stream starts with its form). */
const READABLE_VERSIONS = new Set([1, 2]);
/** Stream forms (version 2): plain varints, or predicted from measure 0 by a per-key ratio. */
const FORM_PLAIN = 0;
const FORM_RATIO = 1;
export const MAX_MEASURES = 8;
export const MAX_SLOTS = 65_535;
export const MAX_KEY = 0x7fffffff;

/** Cells as columns: entry i is (keys[i], slots[i]) with values[m][i]; only the first `count` are used. */
export interface CellColumns {
  count: number;
  keys: Int32Array;
  slots: Uint16Array;
  values: Float64Array[];
}

export interface DecodedBlock {
  slots: number;
  cells: CellColumns;
}

/** Scratch writers of the encoder (reused: a block's encoding allocates only its result). */
const scratchOut = new ByteWriter(4096);
const scratchPlain = new ByteWriter(4096);
const scratchRatio = new ByteWriter(4096);
const scratchHeld = new ByteWriter(4096);
let scratchBitmap = new Uint8Array(16);
let scratchRatios = new Float64Array(64);

/**
 * Encodes cells sorted by (key, slot) without duplicates; values above MAX_CELL_VALUE are stored as it
 * (saturated); throws RangeError on a caller bug (unsorted, negative or fractional values).
 */
export function encodeBlock(slots: number, cells: CellColumns): Uint8Array {
  scratchOut.reset();
  encodeBlockTo(slots, cells, scratchOut);
  return scratchOut.finish();
}

/**
 * encodeBlock appending to `w` (the same bytes): a writer of many blocks reuses one buffer.
 * On a RangeError `w` may hold part of the block.
 */
export function encodeBlockTo(slots: number, cells: CellColumns, w: ByteWriter): void {
  const m = cells.values.length;
  if (!Number.isInteger(slots) || slots < 1 || slots > MAX_SLOTS) throw new RangeError(`slots must be 1..${MAX_SLOTS}`);
  if (m < 1 || m > MAX_MEASURES) throw new RangeError(`measures must be 1..${MAX_MEASURES}`);
  const n = cells.count;
  cells = saturated(cells);
  w.byte(BLOCK_FORMAT_VERSION);
  w.byte(m);
  w.uint(slots);
  let keyCount = 0;
  for (let i = 0; i < n; i++) if (i === 0 || cells.keys[i] !== cells.keys[i - 1]) keyCount++;
  w.uint(keyCount);
  const bitmapBytes = (slots + 7) >> 3;
  if (scratchBitmap.length < bitmapBytes) scratchBitmap = new Uint8Array(bitmapBytes);
  const bitmap = scratchBitmap.subarray(0, bitmapBytes);
  let prevKey = -1;
  for (let i = 0; i < n; ) {
    const key = cells.keys[i] as number;
    if (key < 0 || key > MAX_KEY || key <= prevKey) throw new RangeError('cells must be sorted by key then slot');
    let j = i;
    while (j < n && cells.keys[j] === key) j++;
    w.uint(prevKey < 0 ? key : key - prevKey);
    prevKey = key;
    const count = j - i;
    // Delta list: about one byte per slot; bitmap: a bit per slot of the block.
    let listBytes = 0;
    let prevSlot = -1;
    for (let k = i; k < j; k++) {
      const s = cells.slots[k] as number;
      if (s >= slots || s <= prevSlot) throw new RangeError('cells must be sorted by key then slot, slots < block slots');
      const d = prevSlot < 0 ? s : s - prevSlot;
      listBytes += d < 0x80 ? 1 : d < 0x4000 ? 2 : 3;
      prevSlot = s;
    }
    if (bitmapBytes < listBytes) {
      w.uint(count * 2 + 1);
      bitmap.fill(0);
      for (let k = i; k < j; k++) {
        const s = cells.slots[k] as number;
        bitmap[s >> 3] = (bitmap[s >> 3] as number) | (1 << (s & 7));
      }
      w.bytes(bitmap);
    } else {
      w.uint(count * 2);
      prevSlot = -1;
      for (let k = i; k < j; k++) {
        const s = cells.slots[k] as number;
        w.uint(prevSlot < 0 ? s : s - prevSlot);
        prevSlot = s;
      }
    }
    i = j;
  }
  // Each stream is encoded into a scratch writer; the streams go after their lengths.
  const lengths: number[] = [];
  let last: ByteWriter = scratchPlain;
  scratchHeld.reset();
  for (let v = 0; v < m; v++) {
    const col = cells.values[v] as Float64Array;
    scratchPlain.reset();
    scratchPlain.uint(FORM_PLAIN);
    for (let i = 0; i < n; i++) scratchPlain.uint(col[i] as number);
    // A ratio stream takes at least a byte per key and per cell after its form: when the plain one is
    // no longer than that (small values, zeros), it cannot be shorter, so it is not tried.
    // The ratio stream is written only when it is shorter (its length is counted first, without writing).
    const ratio = v > 0 && scratchPlain.length > 1 + keyCount + n && ratioShorter(cells, col, scratchPlain.length);
    if (ratio) writeRatioStream(cells, col, scratchRatio);
    const best = ratio ? scratchRatio : scratchPlain;
    lengths.push(best.length);
    if (v === m - 1) last = best;
    else scratchHeld.append(best);
  }
  for (const len of lengths) w.uint(len);
  w.append(scratchHeld);
  w.append(last);
}

/**
 * `cells` with every value above MAX_CELL_VALUE (a sum of stored and new cells past 2^53 - 1) saturated
 * there: a block always encodes (src/store/cell-values.ts). The same object when none is (the usual case).
 */
function saturated(cells: CellColumns): CellColumns {
  let values: Float64Array[] | undefined;
  for (let v = 0; v < cells.values.length; v++) {
    const col = cells.values[v] as Float64Array;
    for (let i = 0; i < cells.count; i++) {
      if ((col[i] as number) > MAX_CELL_VALUE) {
        values ??= cells.values.slice();
        const copy = col.slice(0, cells.count);
        for (let j = i; j < cells.count; j++) if ((copy[j] as number) > MAX_CELL_VALUE) copy[j] = MAX_CELL_VALUE;
        values[v] = copy;
        break;
      }
    }
  }
  return values === undefined ? cells : { ...cells, values };
}

/** Zigzag: 0, -1, 1, -2 ... as 0, 1, 2, 3 ... (exact for |r| < 2^52). */
const zigzag = (r: number): number => (r >= 0 ? 2 * r : -2 * r - 1);
const unzigzag = (z: number): number => (z % 2 === 0 ? z / 2 : -(z + 1) / 2);

/** Bytes of the varint of a whole number 0..2^53 - 1 (ByteWriter.uint: 7 bits a byte). */
function varintBytes(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  if (v < 2 ** 35) return 5;
  if (v < 2 ** 42) return 6;
  return v < 2 ** 49 ? 7 : 8;
}

/**
 * Form 1 of a measure stream: a ratio per key (its cells' sum of this measure / sum of measure 0,
 * rounded), then per cell the zigzag residual of value - measure 0 x ratio. Bytes sent are close to
 * requests x a size per code, so residuals are much shorter than the values. Whether it is shorter
 * than `plainBytes` (the plain stream's length), counted without writing it; false also when a
 * product or residual would leave the exact integer range. Leaves the key ratios in scratchRatios
 * for writeRatioStream.
 */
function ratioShorter(cells: CellColumns, col: Float64Array, plainBytes: number): boolean {
  const base = cells.values[0] as Float64Array;
  const n = cells.count;
  let bytes = varintBytes(FORM_RATIO);
  let keys = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    let sumV = 0;
    let sumB = 0;
    while (j < n && cells.keys[j] === cells.keys[i]) {
      sumV += col[j] as number;
      sumB += base[j] as number;
      j++;
    }
    const ratio = sumB > 0 ? Math.round(sumV / sumB) : 0;
    if (!Number.isSafeInteger(ratio)) return false;
    if (keys === scratchRatios.length) {
      const grown = new Float64Array(keys * 2);
      grown.set(scratchRatios);
      scratchRatios = grown;
    }
    scratchRatios[keys++] = ratio;
    bytes += varintBytes(ratio);
    i = j;
  }
  let k = -1;
  let ratio = 0;
  for (let i = 0; i < n; i++) {
    // No shorter than the plain stream already: the plain one is kept whatever the rest holds.
    if (bytes >= plainBytes) return false;
    if (i === 0 || cells.keys[i] !== cells.keys[i - 1]) ratio = scratchRatios[++k] as number;
    const pred = (base[i] as number) * ratio;
    const z = zigzag((col[i] as number) - pred);
    if (!Number.isSafeInteger(pred) || !Number.isSafeInteger(z) || z > 2 ** 52) return false;
    bytes += varintBytes(z);
  }
  return bytes < plainBytes;
}

/** Writes the ratio stream ratioShorter counted (its key ratios in scratchRatios) into `w`. */
function writeRatioStream(cells: CellColumns, col: Float64Array, w: ByteWriter): void {
  const base = cells.values[0] as Float64Array;
  const n = cells.count;
  w.reset();
  w.uint(FORM_RATIO);
  let keys = 0;
  for (let i = 0; i < n; i++) if (i === 0 || cells.keys[i] !== cells.keys[i - 1]) w.uint(scratchRatios[keys++] as number);
  let k = -1;
  let ratio = 0;
  for (let i = 0; i < n; i++) {
    if (i === 0 || cells.keys[i] !== cells.keys[i - 1]) ratio = scratchRatios[++k] as number;
    w.uint(zigzag((col[i] as number) - (base[i] as number) * ratio));
  }
}

/** Parsed header and directory, shared by the full decoder and the one-measure summer. */
interface Directory {
  slots: number;
  measures: number;
  /** Per key: key value and number of cells. */
  keyCount: number;
  keyValues: Int32Array;
  keyCells: Int32Array;
  /** Per key: 1 when its cells fill every slot (its bitmap is all ones): cell i of the key is slot i. */
  keyFull: Uint8Array;
  /** Per cell (in order): its slot; left unwritten for full keys when read for sumMeasure (`reuse`). */
  cellSlots: Uint16Array;
  cellCount: number;
  /** Byte offsets of each measure stream's start and the end of the block. */
  streamStart: number[];
  version: number;
}

let scratchKeys = new Int32Array(64);
let scratchKeyCells = new Int32Array(64);
let scratchSlots = new Uint16Array(1024);
let scratchFull = new Uint8Array(64);
const scratchStreamStart: number[] = [];
/** addSlotThroughMeasures' directory (its arrays the scratch ones). */
const slotDirectory: Directory = {
  slots: 0, measures: 0, keyCount: 0, keyValues: scratchKeys, keyCells: scratchKeyCells, keyFull: scratchFull, cellSlots: scratchSlots, cellCount: 0,
  streamStart: scratchStreamStart, version: 0,
};

/** Whether the bitmap at buf[at..] has exactly the first `slots` bits set. */
function fullBitmap(buf: Uint8Array, at: number, slots: number): boolean {
  const whole = slots >> 3;
  for (let b = 0; b < whole; b++) if (buf[at + b] !== 0xff) return false;
  const rest = slots & 7;
  return rest === 0 || buf[at + whole] === (1 << rest) - 1;
}

/**
 * The header and directory of a block. `reuse`: in the scratch arrays (one directory in use at a time); `into`: in
 * that object too (addSlotThroughMeasures' scratch directory: nothing allocated per block), else a new one.
 */
function readDirectory(buf: Uint8Array, reuse: boolean, into?: Directory): Directory {
  if (buf.length < 4) throw new BlockFormatError(`too short (${buf.length} bytes)`);
  const r = new ByteReader(buf);
  const version = r.byte();
  if (!READABLE_VERSIONS.has(version)) throw new BlockFormatError(`unknown format version ${version} (this build reads 1 to ${BLOCK_FORMAT_VERSION})`);
  const measures = r.byte();
  if (measures < 1 || measures > MAX_MEASURES) throw new BlockFormatError(`bad measure count ${measures}`);
  const slots = r.uint();
  if (slots < 1 || slots > MAX_SLOTS) throw new BlockFormatError(`bad slot count ${slots}`);
  const keyCount = r.uint();
  if (keyCount > buf.length) throw new BlockFormatError(`key count ${keyCount} exceeds the block size`);
  let keyValues = reuse ? scratchKeys : new Int32Array(keyCount);
  let keyCells = reuse ? scratchKeyCells : new Int32Array(keyCount);
  let keyFull = reuse ? scratchFull : new Uint8Array(keyCount);
  if (keyValues.length < keyCount) {
    keyValues = scratchKeys = new Int32Array(keyCount * 2);
    keyCells = scratchKeyCells = new Int32Array(keyCount * 2);
    keyFull = scratchFull = new Uint8Array(keyCount * 2);
  }
  let cellSlots = reuse ? scratchSlots : new Uint16Array(Math.min(keyCount * slots, buf.length * 8));
  let cellCount = 0;
  let key = -1;
  const bitmapBytes = (slots + 7) >> 3;
  for (let k = 0; k < keyCount; k++) {
    const d = r.uint();
    if (k > 0 && d === 0) throw new BlockFormatError('keys not strictly ascending');
    key = k === 0 ? d : key + d;
    if (key > MAX_KEY) throw new BlockFormatError(`key ${key} out of range`);
    const h = r.uint();
    const n = Math.floor(h / 2);
    if (n < 1 || n > slots) throw new BlockFormatError(`key ${key} has ${n} cells in a block of ${slots} slots`);
    if (cellCount + n > cellSlots.length) {
      const grown = new Uint16Array(Math.max(cellSlots.length * 2, cellCount + n));
      grown.set(cellSlots.subarray(0, cellCount));
      cellSlots = grown;
      if (reuse) scratchSlots = grown;
    }
    keyFull[k] = 0;
    if (h % 2 === 1 && n === slots && r.pos + bitmapBytes <= buf.length && fullBitmap(buf, r.pos, slots)) {
      // Every slot: the common case of busy keys; sumMeasure needs no slot list for it.
      keyFull[k] = 1;
      if (!reuse) for (let i = 0; i < n; i++) cellSlots[cellCount + i] = i;
      r.pos += bitmapBytes;
    } else if (h % 2 === 1) {
      if (r.pos + bitmapBytes > buf.length) throw new BlockFormatError(`truncated slot bitmap of key ${key}`);
      let seen = 0;
      for (let b = 0; b < bitmapBytes; b++) {
        let bits = buf[r.pos + b] as number;
        while (bits !== 0) {
          const low = bits & -bits;
          const s = b * 8 + (31 - Math.clz32(low));
          if (s >= slots) throw new BlockFormatError(`slot ${s} beyond ${slots} in key ${key}`);
          if (seen < n) cellSlots[cellCount + seen] = s;
          seen++;
          bits ^= low;
        }
      }
      if (seen !== n) throw new BlockFormatError(`key ${key} announces ${n} cells, its bitmap has ${seen}`);
      r.pos += bitmapBytes;
    } else {
      let s = -1;
      for (let i = 0; i < n; i++) {
        const d2 = r.uint();
        if (i > 0 && d2 === 0) throw new BlockFormatError(`slots of key ${key} not strictly ascending`);
        s = i === 0 ? d2 : s + d2;
        if (s >= slots) throw new BlockFormatError(`slot ${s} beyond ${slots} in key ${key}`);
        cellSlots[cellCount + i] = s;
      }
    }
    keyValues[k] = key;
    keyCells[k] = n;
    cellCount += n;
  }
  // The stream starts (a reused directory reuses the array: nothing allocated per block).
  const streamStart: number[] = reuse ? scratchStreamStart : [];
  streamStart.length = measures + 1;
  let total = 0;
  for (let m = 0; m < measures; m++) {
    const len = r.uint();
    streamStart[m + 1] = len;
    total += len;
  }
  if (r.pos + total < buf.length) throw new BlockFormatError(`${buf.length - r.pos - total} bytes after the measure streams`);
  if (r.pos + total > buf.length) throw new BlockFormatError('measure streams truncated');
  let at = r.pos;
  for (let m = 0; m < measures; m++) {
    const len = streamStart[m + 1] as number;
    streamStart[m] = at;
    at += len;
  }
  streamStart[measures] = at;
  if (into === undefined) return { slots, measures, keyCount, keyValues, keyCells, keyFull, cellSlots, cellCount, streamStart, version };
  const d = into;
  d.slots = slots;
  d.measures = measures;
  d.keyCount = keyCount;
  d.keyValues = keyValues;
  d.keyCells = keyCells;
  d.keyFull = keyFull;
  d.cellSlots = cellSlots;
  d.cellCount = cellCount;
  d.streamStart = streamStart;
  d.version = version;
  return d;
}

/** A measure stream's values, one read per cell in (key, slot) order, whatever the stream's form. */
interface ValueStream {
  next(keyIndex: number): number;
  /** Checks that the stream (and the base stream it uses) ended exactly. */
  end(): void;
}

/** A reader over measure stream m (`into` pointed there, else a new one) and the stream's form. */
function rawReader(buf: Uint8Array, dir: Directory, m: number, into?: ByteReader): { r: ByteReader; form: number } {
  const start = dir.streamStart[m] as number;
  const end = dir.streamStart[m + 1] as number;
  const r = into === undefined ? new ByteReader(buf, start, end) : into.reset(buf, start, end);
  const form = dir.version === 1 ? FORM_PLAIN : r.uint();
  return { r, form };
}

/** A measure stream's readers: its own, and for a ratio stream measure 0's (its base) and the keys' ratios. */
interface MeasureReaders {
  r: ByteReader;
  base: ByteReader | undefined;
  ratios: Float64Array | undefined;
}

/** Readers and ratios measureReaders points at a block's streams instead of making new ones (its return value too). */
interface MeasureScratch extends MeasureReaders {
  reader: ByteReader;
  baseReader: ByteReader;
  /** The ratios' memory, grown when a block has more keys (only its first keyCount values are a block's). */
  ratioRoom: Float64Array;
}

function checkStreamEnd(r: ByteReader, m: number): void {
  if (r.pos !== r.end) throw new BlockFormatError(`measure stream ${m} has ${r.end - r.pos} bytes left over`);
}

/**
 * The readers of measure stream `m`: a plain stream alone, or a ratio stream (its per-key ratios read
 * here) with the base stream 0 it is relative to. A value is `r.uint()` when `base` is undefined, else
 * `ratioValue(base.uint(), ratios[key], r.uint(), m)`.
 */
function measureReaders(buf: Uint8Array, dir: Directory, m: number, scratch?: MeasureScratch): MeasureReaders {
  const { r, form } = rawReader(buf, dir, m, scratch?.reader);
  const out: MeasureReaders = scratch ?? { r, base: undefined, ratios: undefined };
  out.r = r;
  out.base = undefined;
  out.ratios = undefined;
  if (form === FORM_PLAIN) return out;
  if (form !== FORM_RATIO || m === 0) throw new BlockFormatError(`measure stream ${m} has unknown form ${form}`);
  let ratios: Float64Array;
  if (scratch === undefined) ratios = new Float64Array(dir.keyCount);
  else {
    if (scratch.ratioRoom.length < dir.keyCount) scratch.ratioRoom = new Float64Array(dir.keyCount * 2);
    ratios = scratch.ratioRoom;
  }
  for (let k = 0; k < dir.keyCount; k++) ratios[k] = r.uint();
  const b = rawReader(buf, dir, 0, scratch?.baseReader);
  if (b.form !== FORM_PLAIN) throw new BlockFormatError(`measure stream 0 has form ${b.form}`);
  out.base = b.r;
  out.ratios = ratios;
  return out;
}

/** A ratio stream's value: the base value times the key's ratio plus the zigzagged delta, checked to be a safe count. */
function ratioValue(base: number, ratio: number, delta: number, m: number): number {
  const v = base * ratio + unzigzag(delta);
  if (!(v >= 0 && v <= Number.MAX_SAFE_INTEGER)) throw new BlockFormatError(`measure ${m} value ${v} out of range`);
  return v;
}

function valueStream(buf: Uint8Array, dir: Directory, m: number): ValueStream {
  const { r, base, ratios } = measureReaders(buf, dir, m);
  if (!base || !ratios) return { next: () => r.uint(), end: () => checkStreamEnd(r, m) };
  return {
    next: (k) => ratioValue(base.uint(), ratios[k] as number, r.uint(), m),
    end: () => {
      checkStreamEnd(r, m);
      checkStreamEnd(base, 0);
    },
  };
}

/**
 * Decodes `n` varints from buf[pos..end) into col[0..n) with ByteReader.uint's checks and errors;
 * returns the position after the last one.
 */
function readVarints(buf: Uint8Array, pos: number, end: number, col: Float64Array, n: number): number {
  for (let j = 0; j < n; j++) {
    if (pos >= end) throw new BlockFormatError(`truncated varint at byte ${pos}`);
    const first = pos;
    let b = buf[pos++] as number;
    if (b < 0x80) {
      col[j] = b;
      continue;
    }
    let v = b & 0x7f;
    let scale = 0x80;
    for (let i = 1; ; i++) {
      if (pos >= end) throw new BlockFormatError(`truncated varint at byte ${pos}`);
      if (i > 7) throw new BlockFormatError(`varint longer than 8 bytes at byte ${first}`);
      b = buf[pos++] as number;
      v += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
    }
    if (v > Number.MAX_SAFE_INTEGER) throw new BlockFormatError(`varint beyond 2^53 at byte ${first}`);
    col[j] = v;
  }
  return pos;
}

/** Decodes and validates a whole block. */
export function decodeBlock(buf: Uint8Array): DecodedBlock {
  return decodeBlockInto(buf, undefined);
}

/** Empty columns for decodeBlockInto (grown by it as blocks need). */
export function newCellColumns(measures: number, capacity = 64): CellColumns {
  return { count: 0, keys: new Int32Array(capacity), slots: new Uint16Array(capacity), values: Array.from({ length: measures }, () => new Float64Array(capacity)) };
}

/**
 * decodeBlock into `into` (undefined: new columns), reused when it has room and the block's measure
 * count: a writer merging many stored blocks allocates no columns per block. The result's cells are
 * `into` or its replacement (valid until the next call with it). The same checks as decodeBlock.
 */
export function decodeBlockInto(buf: Uint8Array, into: CellColumns | undefined): DecodedBlock {
  const dir = readDirectory(buf, into !== undefined);
  const n = dir.cellCount;
  const out = into !== undefined && into.keys.length >= n && into.values.length === dir.measures ? into : newCellColumns(dir.measures, Math.max(n, into ? into.keys.length * 2 : 0));
  const keys = out.keys;
  const slots = out.slots;
  let i = 0;
  let cell = 0;
  for (let k = 0; k < dir.keyCount; k++) {
    const key = dir.keyValues[k] as number;
    const kn = dir.keyCells[k] as number;
    const full = dir.keyFull[k] === 1;
    for (let c = 0; c < kn; c++) {
      keys[i] = key;
      // A full key's slots are 0..n-1 (a reused directory leaves them unwritten).
      slots[i++] = full ? c : (dir.cellSlots[cell + c] as number);
    }
    cell += kn;
  }
  for (let m = 0; m < dir.measures; m++) {
    const col = out.values[m] as Float64Array;
    const start = dir.streamStart[m] as number;
    const end = dir.streamStart[m + 1] as number;
    // A plain stream (the usual form) is read in place; a ratio stream through its readers.
    const plainAt = dir.version === 1 ? start : start < end && buf[start] === FORM_PLAIN ? start + 1 : -1;
    if (plainAt >= 0) {
      const after = readVarints(buf, plainAt, end, col, n);
      if (after !== end) throw new BlockFormatError(`measure stream ${m} has ${end - after} bytes left over`);
      continue;
    }
    const { r, base, ratios } = measureReaders(buf, dir, m);
    if (base === undefined || ratios === undefined) {
      for (let j = 0; j < n; j++) col[j] = r.uint();
    } else {
      let j = 0;
      for (let k = 0; k < dir.keyCount; k++) {
        const ratio = ratios[k] as number;
        for (let c = dir.keyCells[k] as number; c > 0; c--) col[j++] = ratioValue(base.uint(), ratio, r.uint(), m);
      }
      checkStreamEnd(base, 0);
    }
    checkStreamEnd(r, m);
  }
  out.count = n;
  return { slots: dir.slots, cells: out };
}

/**
 * Adds measure `m` of every cell into the column its key maps to: `column(key)[offset + slot] += value`
 * (cells whose key has no column, or whose index falls outside the column, are skipped).
 * Allocates nothing per cell; checks the directory and the stream(s) it reads.
 */
export function sumMeasure(
  buf: Uint8Array, m: number, offset: number, column: (key: number) => Float64Array | undefined,
): void {
  const dir = readDirectory(buf, true);
  if (m >= dir.measures) throw new BlockFormatError(`measure ${m} requested from a block of ${dir.measures}`);
  const { r, form } = rawReader(buf, dir, m);
  if (form !== FORM_PLAIN) {
    sumWith(dir, valueStream(buf, dir, m), offset, column);
    return;
  }
  // The common case (requests), inlined: one varint per cell, one-byte varints read in place.
  const slots = dir.cellSlots;
  const full = dir.keyFull;
  const end = r.end;
  let pos = r.pos;
  let cell = 0;
  for (let k = 0; k < dir.keyCount; k++) {
    const n = dir.keyCells[k] as number;
    const col = column(dir.keyValues[k] as number);
    if (col === undefined) {
      r.pos = pos;
      for (let i = 0; i < n; i++) r.uint();
      pos = r.pos;
    } else if (full[k] === 1 && offset >= 0 && offset + n <= col.length) {
      for (let i = 0; i < n; i++) {
        let v = pos < end ? (buf[pos] as number) : 0x80;
        if (v < 0x80) pos++;
        else if (pos + 1 < end && (buf[pos + 1] as number) < 0x80) {
          v = (v & 0x7f) + (buf[pos + 1] as number) * 0x80;
          pos += 2;
        } else {
          r.pos = pos;
          v = r.uint();
          pos = r.pos;
        }
        col[offset + i] = (col[offset + i] as number) + v;
      }
    } else {
      const isFull = full[k] === 1;
      for (let i = 0; i < n; i++) {
        let v = pos < end ? (buf[pos] as number) : 0x80;
        if (v < 0x80) pos++;
        else if (pos + 1 < end && (buf[pos + 1] as number) < 0x80) {
          v = (v & 0x7f) + (buf[pos + 1] as number) * 0x80;
          pos += 2;
        } else {
          r.pos = pos;
          v = r.uint();
          pos = r.pos;
        }
        const at = offset + (isFull ? i : (slots[cell + i] as number));
        if (at >= 0 && at < col.length) col[at] = (col[at] as number) + v;
      }
    }
    cell += n;
  }
  r.pos = pos;
  checkStreamEnd(r, m);
}

/** Moves the reader past `count` varints (a byte below 0x80 ends each) without decoding them. */
function skipVarints(r: ByteReader, count: number): void {
  const buf = r.buf;
  const end = r.end;
  let pos = r.pos;
  while (count > 0) {
    if (pos >= end) throw new BlockFormatError(`truncated varint at byte ${pos}`);
    if ((buf[pos++] as number) < 0x80) count--;
  }
  r.pos = pos;
}

/**
 * Adds the values of one slot: for each measure `measures[j]`, the cell (key, `slot`) of every key
 * below `into[j].length` is added to `into[j][key]`. One directory read for all the measures, and
 * the other cells' varints are stepped over, not decoded (one slot of an hour's block: the
 * play-info read). Checks the directory and that each stream it reads ends exactly.
 */
export function addSlotMeasures(buf: Uint8Array, slot: number, measures: readonly number[], into: readonly Float64Array[]): void {
  const dir = readDirectory(buf, true);
  for (let j = 0; j < measures.length; j++) {
    const m = measures[j] as number;
    const out = into[j] as Float64Array;
    if (m >= dir.measures) throw new BlockFormatError(`measure ${m} requested from a block of ${dir.measures}`);
    const { r, base, ratios } = measureReaders(buf, dir, m);
    let cell = 0;
    for (let k = 0; k < dir.keyCount; k++) {
      const n = dir.keyCells[k] as number;
      let at = -1;
      if (dir.keyFull[k] === 1) at = slot >= 0 && slot < n ? slot : -1;
      else for (let i = 0; i < n; i++) if (dir.cellSlots[cell + i] === slot) { at = i; break; }
      if (at < 0) {
        skipVarints(r, n);
        if (base) skipVarints(base, n);
      } else {
        skipVarints(r, at);
        if (base) skipVarints(base, at);
        const v = base ? ratioValue(base.uint(), (ratios as Float64Array)[k] as number, r.uint(), m) : r.uint();
        const key = dir.keyValues[k] as number;
        if (key < out.length) out[key] = (out[key] as number) + v;
        skipVarints(r, n - at - 1);
        if (base) skipVarints(base, n - at - 1);
      }
      cell += n;
    }
    checkStreamEnd(r, m);
    if (base) checkStreamEnd(base, 0);
  }
}

/** addSlotThroughMeasures' readers and ratios, pointed at each block's streams (nothing allocated per block). */
const slotScratch: MeasureScratch = {
  r: new ByteReader(new Uint8Array(0)), base: undefined, ratios: undefined,
  reader: new ByteReader(new Uint8Array(0)), baseReader: new ByteReader(new Uint8Array(0)), ratioRoom: new Float64Array(64),
};

/**
 * addSlotMeasures and the running sums up to a slot, with one directory read per block: for each
 * measure `measures[j]`, `into[j][key]` gets the cell (key, `slot`) added when `through[j]` is
 * false, or the sum of the key's cells in slots 0..`slot` when it is true (keys below
 * `into[j].length`). The play-info read: a minute's viewers and bytes, and the FLV/RTMP sessions
 * opened and closed since the block's start. Checks the directory and each stream it reads.
 */
export function addSlotThroughMeasures(
  buf: Uint8Array, slot: number, measures: readonly number[], through: readonly boolean[], into: readonly Float64Array[],
): void {
  const dir = readDirectory(buf, true, slotDirectory);
  for (let j = 0; j < measures.length; j++) {
    const m = measures[j] as number;
    const out = into[j] as Float64Array;
    const sum = through[j] === true;
    if (m >= dir.measures) throw new BlockFormatError(`measure ${m} requested from a block of ${dir.measures}`);
    // In scratch readers: the play-info read calls this for 1,000 blocks per answer.
    const { r, base, ratios } = measureReaders(buf, dir, m, slotScratch);
    let cell = 0;
    for (let k = 0; k < dir.keyCount; k++) {
      const n = dir.keyCells[k] as number;
      const full = dir.keyFull[k] === 1;
      // Cells [0, upto) of the key are summed (sum) or the last of them taken (one slot): slots ascend.
      let upto = 0;
      if (full) upto = sum ? Math.max(0, Math.min(n, slot + 1)) : slot >= 0 && slot < n ? slot + 1 : 0;
      else if (sum) while (upto < n && (dir.cellSlots[cell + upto] as number) <= slot) upto++;
      else for (let i = 0; i < n; i++) if (dir.cellSlots[cell + i] === slot) { upto = i + 1; break; }
      const key = dir.keyValues[k] as number;
      if (upto === 0 || key >= out.length) {
        skipVarints(r, n);
        if (base) skipVarints(base, n);
      } else {
        const first = sum ? 0 : upto - 1;
        skipVarints(r, first);
        if (base) skipVarints(base, first);
        let v = 0;
        for (let i = first; i < upto; i++) v += base ? ratioValue(base.uint(), (ratios as Float64Array)[k] as number, r.uint(), m) : r.uint();
        out[key] = (out[key] as number) + v;
        skipVarints(r, n - upto);
        if (base) skipVarints(base, n - upto);
      }
      cell += n;
    }
    checkStreamEnd(r, m);
    if (base) checkStreamEnd(base, 0);
  }
}

function sumWith(dir: Directory, st: ValueStream, offset: number, column: (key: number) => Float64Array | undefined): void {
  let cell = 0;
  for (let k = 0; k < dir.keyCount; k++) {
    const n = dir.keyCells[k] as number;
    const col = column(dir.keyValues[k] as number);
    for (let i = 0; i < n; i++, cell++) {
      const v = st.next(k);
      if (col === undefined) continue;
      const at = offset + (dir.keyFull[k] === 1 ? i : (dir.cellSlots[cell] as number));
      if (at >= 0 && at < col.length) col[at] = (col[at] as number) + v;
    }
  }
  st.end();
}

/**
 * Adds every measure m < `width` of every cell (whatever its key) into `into[(offset + slot) * width + m]`
 * and sets `mark[offset + slot] = 1`, for cells with 0 <= offset + slot < mark.length (`into` has
 * `width` entries per mark). One pass per measure stream, nothing allocated per cell: the
 * carousel read, which needs all four measures of one-key blocks. Checks what it reads.
 */
export function addAllMeasures(buf: Uint8Array, offset: number, width: number, into: Float64Array, mark: Uint8Array): void {
  const dir = readDirectory(buf, true);
  if (width > dir.measures) throw new BlockFormatError(`${width} measures requested from a block of ${dir.measures}`);
  const len = mark.length;
  const slotOf = (k: number, i: number, cell: number): number => offset + (dir.keyFull[k] === 1 ? i : (dir.cellSlots[cell] as number));
  let cell = 0;
  for (let k = 0; k < dir.keyCount; k++) {
    const n = dir.keyCells[k] as number;
    for (let i = 0; i < n; i++, cell++) {
      const at = slotOf(k, i, cell);
      if (at >= 0 && at < len) mark[at] = 1;
    }
  }
  for (let m = 0; m < width; m++) {
    const { r, base, ratios } = measureReaders(buf, dir, m);
    cell = 0;
    for (let k = 0; k < dir.keyCount; k++) {
      const n = dir.keyCells[k] as number;
      const ratio = ratios ? (ratios[k] as number) : 0;
      for (let i = 0; i < n; i++, cell++) {
        const v = base ? ratioValue(base.uint(), ratio, r.uint(), m) : r.uint();
        const at = slotOf(k, i, cell);
        if (at >= 0 && at < len) into[at * width + m] = (into[at * width + m] as number) + v;
      }
    }
    checkStreamEnd(r, m);
    if (base) checkStreamEnd(base, 0);
  }
}

/** Calls fn with the slot of every cell (in key, slot order), reading only the directory. */
export function forEachSlot(buf: Uint8Array, fn: (slot: number) => void): void {
  const dir = readDirectory(buf, false);
  for (let i = 0; i < dir.cellCount; i++) fn(dir.cellSlots[i] as number);
}

/** Header facts of a block (for tools and the storage figures). */
export function blockInfo(buf: Uint8Array): { slots: number; measures: number; keys: number; cells: number } {
  const dir = readDirectory(buf, false);
  return { slots: dir.slots, measures: dir.measures, keys: dir.keyCount, cells: dir.cellCount };
}
