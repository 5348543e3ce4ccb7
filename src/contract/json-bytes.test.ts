import { describe, expect, it } from 'vitest';
import { giveSpare, JsonBytes, MAX_SPARES } from './json-bytes.js';

const given = (n: number, bytes: number): ArrayBuffer[] => {
  const out = Array.from({ length: n }, () => new ArrayBuffer(bytes));
  for (const b of out) giveSpare(b);
  return out;
};
/** Renders `n` times at `bytes`: how many of them got one of `from`. */
const reused = (from: ArrayBuffer[], n: number, bytes: number): number => {
  const set = new Set(from);
  let k = 0;
  for (let i = 0; i < n; i++) if (set.has(new JsonBytes(bytes).buf.buffer as ArrayBuffer)) k++;
  return k;
};

describe('json-bytes spares', () => {
  it('keeps every buffer of ten answers sent at once (10 connections in flight) for the next ten renderings', () => {
    const sent = given(10, 200_000);
    expect(reused(sent, 10, 200_000)).toBe(10);
    // Taken: none is handed out twice.
    expect(reused(sent, 10, 200_000)).toBe(0);
  });

  it('keeps a buffer given twice once: two renderings never share it', () => {
    const [b] = given(1, 300_000);
    giveSpare(b as ArrayBuffer);
    const a1 = new JsonBytes(300_000).buf.buffer;
    const a2 = new JsonBytes(300_000).buf.buffer;
    expect(a1).toBe(b);
    expect(a2).not.toBe(b);
  });

  it('keeps at most MAX_SPARES, dropping the oldest', () => {
    const sent = given(MAX_SPARES + 3, 1_000);
    const got = Array.from({ length: MAX_SPARES + 3 }, () => new JsonBytes(1_000).buf.buffer as ArrayBuffer);
    expect(got.filter((b) => sent.slice(3).includes(b))).toHaveLength(MAX_SPARES);
    expect(got.filter((b) => sent.slice(0, 3).includes(b))).toHaveLength(0);
  });

  it('keeps at most 64 MiB in all', () => {
    const big = given(5, 16 * 2 ** 20);
    // The fifth pushed the first out.
    expect(reused(big, 5, 16 * 2 ** 20)).toBe(4);
  });
});
