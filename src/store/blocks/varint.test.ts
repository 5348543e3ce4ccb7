import { expect, it } from 'vitest';
import { rng } from '../../../test/helpers/rng.js';
import { ByteReader, ByteWriter } from './varint.js';

/** Unsigned LEB128 by float arithmetic only (the encoder before its integer fast paths): the reference bytes. */
function reference(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

it('writes the same varint bytes as plain LEB128 on both sides of the 7-bit, 2^31 and 2^32 boundaries and up to 2^53 - 1, and reads them back', () => {
  const values: number[] = [];
  for (const b of [7, 14, 21, 28, 31, 32, 35, 42, 49, 52]) values.push(2 ** b - 1, 2 ** b, 2 ** b + 1);
  values.push(0, 1, 0x7fffffff, 0x80000000, 0xffffffff, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1);
  const rand = rng(5);
  for (let i = 0; i < 2000; i++) values.push(Math.floor(rand() * 2 ** (1 + Math.floor(rand() * 53))));
  const w = new ByteWriter(4);
  const expected: number[] = [];
  for (const v of values) {
    w.uint(v);
    expected.push(...reference(v));
  }
  expect([...w.view()]).toEqual(expected);
  const r = new ByteReader(w.view());
  for (const v of values) expect(r.uint()).toBe(v);
  expect(r.pos).toBe(w.length);
  expect(() => w.uint(-1)).toThrow(RangeError);
  expect(() => w.uint(0.5)).toThrow(RangeError);
  expect(() => w.uint(2 ** 53)).toThrow(RangeError);
});
