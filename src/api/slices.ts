import { performance } from 'node:perf_hooks';
import { forEachLine } from '../ingest/lines.js';

/**
 * Work on a large request body in slices, giving the event loop back between them, so one big
 * body never holds other requests (`/healthz` included) for more than a few milliseconds.
 */

/** Longest run of work between two yields to the event loop. */
export const SLICE_MS = 4;
const LINE_SLICE_BYTES = 64 * 1024;

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A clock that says when a slice has run long enough, and yields then. */
class Slicer {
  private since = performance.now();
  constructor(private readonly ms: number) {}
  async maybeYield(): Promise<void> {
    if (performance.now() - this.since < this.ms) return;
    await yieldToLoop();
    this.since = performance.now();
  }
}

/**
 * Calls fn for each line of UTF-8 bytes with the same lines and indexes forEachLine gives for
 * the whole text, decoding and processing about 64 KiB at a time (cut at newlines, so no
 * character is split) and yielding between slices.
 */
export async function forEachLineInSlices(bytes: Buffer, fn: (line: string, index: number) => void, sliceMs = SLICE_MS): Promise<void> {
  const slicer = new Slicer(sliceMs);
  let start = 0;
  let base = 0;
  while (start < bytes.length) {
    let end = Math.min(start + LINE_SLICE_BYTES, bytes.length);
    if (end < bytes.length) {
      const nl = bytes.indexOf(10, end);
      end = nl < 0 ? bytes.length : nl;
    }
    const text = bytes.toString('utf8', start, end);
    const offset = base;
    forEachLine(text, (line, index) => fn(line, offset + index));
    let segments = 1;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) segments++;
    base += segments;
    start = end + 1;
    await slicer.maybeYield();
  }
}

export type ArrayParse = { ok: true; items: unknown[] } | { ok: false; why: 'invalid' | 'not-array' | 'too-many' };

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Parses a JSON array in slices: finds each element's extent with a scan that knows strings
 * and nesting, parses each element on its own (JSON.parse, so exactly JSON's grammar), and stops
 * as soon as there are more than maxItems. 'invalid' is what JSON.parse of the whole text would
 * reject; 'not-array' valid JSON that is not an array (only decided for texts not starting with
 * `[`: those are refused without being parsed).
 */
export async function parseJsonArrayInSlices(text: string, maxItems: number, sliceMs = SLICE_MS): Promise<ArrayParse> {
  const slicer = new Slicer(sliceMs);
  const n = text.length;
  let i = 0;
  while (i < n && isSpace(text.charCodeAt(i))) i++;
  if (i === n) return { ok: false, why: 'invalid' };
  if (text.charCodeAt(i) !== 0x5b /* [ */) return { ok: false, why: 'not-array' };
  i++;
  const items: unknown[] = [];
  let scanned = 0;
  for (;;) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (i === n) return { ok: false, why: 'invalid' };
    if (text.charCodeAt(i) === 0x5d /* ] */ && items.length === 0) {
      i++;
      break;
    }
    const start = i;
    let depth = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22 /* " */) {
        for (i++; i < n; i++) {
          const d = text.charCodeAt(i);
          if (d === 0x5c /* \ */) i++;
          else if (d === 0x22) break;
        }
      } else if (c === 0x7b || c === 0x5b) {
        depth++;
      } else if (c === 0x7d || c === 0x5d) {
        if (depth === 0) break;
        depth--;
      } else if (c === 0x2c /* , */ && depth === 0) {
        break;
      }
    }
    if (i >= n) return { ok: false, why: 'invalid' };
    if (items.length === maxItems) return { ok: false, why: 'too-many' };
    try {
      items.push(JSON.parse(text.slice(start, i)) as unknown);
    } catch {
      return { ok: false, why: 'invalid' };
    }
    scanned += i - start;
    const c = text.charCodeAt(i);
    i++;
    if (c === 0x5d) break;
    if (c !== 0x2c) return { ok: false, why: 'invalid' };
    if (scanned > 16 * 1024) {
      scanned = 0;
      await slicer.maybeYield();
    }
  }
  while (i < n && isSpace(text.charCodeAt(i))) i++;
  return i === n ? { ok: true, items } : { ok: false, why: 'invalid' };
}

/** Maps fn over items in slices (fn judges one item; index is the item's position). */
export async function mapInSlices<T, R>(items: readonly T[], fn: (item: T, index: number) => R, sliceMs = SLICE_MS): Promise<R[]> {
  const slicer = new Slicer(sliceMs);
  const out: R[] = [];
  for (let k = 0; k < items.length; k++) {
    out.push(fn(items[k] as T, k));
    if ((k & 63) === 63) await slicer.maybeYield();
  }
  return out;
}
