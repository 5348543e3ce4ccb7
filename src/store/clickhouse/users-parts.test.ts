import { describe, expect, it } from 'vitest';
import { renderUsers } from '../../contract/audience/users-body.js';
import { UsersBodies } from './users-bodies.js';
import { assembleUsers, slotsLeft, usersEntries, type UsersPart, type UsersSlots } from './users-parts.js';

const M = 60_000;
const DAY = 86_400_000;
const D = Date.UTC(2026, 10, 30);

/** Slot i's viewers: whole numbers of every length, zeros, large and fractional values (the renderer's slow paths). */
const series = (n: number, seed: number): Float64Array => Float64Array.from({ length: n }, (_, i) =>
  (i % 7 === 0 ? 0 : i % 101 === 0 ? 2 ** 40 + seed : i % 97 === 0 ? 0.5 + seed : (i * 7919 + seed) % (10 ** (1 + (i % 6)))));

const want = (slots: UsersSlots, values: Float64Array): Buffer => Buffer.from(renderUsers({ slots: { ...slots, count: values.length } }, values));

/** The parts of the whole UTC days of `slots` (their entries rendered by usersEntries from the series' values), as the blocks give them. */
function dayParts(slots: UsersSlots, values: Float64Array, skip: (day: number) => boolean = () => false): UsersPart[] {
  const parts: UsersPart[] = [];
  const perDay = DAY / slots.slotMs;
  for (let day = Math.ceil(slots.from / DAY) * DAY; day + DAY <= slots.to; day += DAY) {
    if (skip(day)) continue;
    const at = (day - slots.from) / slots.slotMs;
    parts.push({ at, count: perDay, bytes: usersEntries(day, slots.slotMs, values.subarray(at, at + perDay)) });
  }
  return parts;
}

const CASES: Array<[string, UsersSlots]> = [
  ['7 d at 60 s ending inside a day', { slotMs: M, from: D - 7 * DAY + 13 * 60 * M, to: D + 13 * 60 * M }],
  ['31 d at 300 s ending inside a day', { slotMs: 5 * M, from: D - 31 * DAY + 5 * 60 * M, to: D + 5 * 60 * M }],
  ['whole days only, 300 s', { slotMs: 5 * M, from: D - 3 * DAY, to: D }],
  ['31 d at 60 s (the largest series)', { slotMs: M, from: D - 31 * DAY + 60 * M, to: D + 60 * M }],
];

describe('users answers put together from rendered days (users-parts.ts)', () => {
  it('gives renderUsers\' bytes from whole days\' entries and the slots between them rendered, days left out too', () => {
    for (const [name, slots] of CASES) {
      const values = series((slots.to - slots.from) / slots.slotMs, name.length);
      const bytes = want(slots, values);
      for (const skip of [(): boolean => false, (day: number): boolean => ((day - D) / DAY) % 2 === 0, (day: number): boolean => day !== D - 2 * DAY]) {
        const parts = dayParts(slots, values, skip);
        expect(parts.length, name).toBeGreaterThan(0);
        const got = assembleUsers(slots, values, parts, (n) => new ArrayBuffer(n));
        expect(Buffer.from(got).equals(bytes), name).toBe(true);
        expect(JSON.parse(Buffer.from(got).toString('latin1'))).toEqual(JSON.parse(bytes.toString('latin1')));
      }
    }
  });

  it('renders the whole series when the parts are not in order, overlap or pass its end', () => {
    const [, slots] = CASES[2] as [string, UsersSlots];
    const values = series(3 * 288, 5);
    const parts = dayParts(slots, values);
    const bad: UsersPart[][] = [[...parts].reverse(), [parts[0] as UsersPart, { ...(parts[1] as UsersPart), at: 100 }], [{ ...(parts[2] as UsersPart), at: 3 * 288 - 10 }]];
    for (const p of bad) {
      expect(slotsLeft(values.length, p)).toBe(values.length);
      expect(Buffer.from(assembleUsers(slots, values, p, () => new ArrayBuffer(0))).equals(want(slots, values))).toBe(true);
    }
    expect(slotsLeft(values.length, parts)).toBe(0);
    expect(slotsLeft(values.length, parts.slice(1))).toBe(288);
  });

  it('UsersBodies puts an answer together on its own thread only with few slots left to render, into sent bodies\' buffers', async () => {
    const bodies = new UsersBodies(1, null);
    try {
      const [, slots] = CASES[1] as [string, UsersSlots];
      const values = series((slots.to - slots.from) / slots.slotMs, 3);
      const parts = dayParts(slots, values);
      const first = bodies.assemble(slots, values, parts);
      expect(first && Buffer.from(first).equals(want(slots, values))).toBe(true);
      const buffer = first?.buffer;
      const size = buffer?.byteLength ?? 0;
      expect(size).toBeGreaterThan(first?.length ?? 0);
      bodies.release(first as Uint8Array);
      // The next answer is written into the sent one's memory, as it is (not moved: V8 would count it as allocated anew).
      const next = bodies.assemble(slots, values, parts);
      expect(next && Buffer.from(next).equals(want(slots, values))).toBe(true);
      expect(next?.buffer).toBe(buffer);
      expect(next?.buffer.byteLength).toBe(size);
      // Released twice, or a body it did not make: not kept again.
      bodies.release(first as Uint8Array);
      bodies.release(new Uint8Array(size));
      const third = bodies.assemble(slots, values, parts);
      expect(third?.buffer).not.toBe(buffer);
      bodies.release(next as Uint8Array);
      bodies.release(third as Uint8Array);
      expect(bodies.stats.assembled).toBe(3);
      // No parts, or too many slots left (31 d at 60 s with 3 days as parts): rendered elsewhere.
      expect(bodies.assemble(slots, values, [])).toBeUndefined();
      const [, large] = CASES[3] as [string, UsersSlots];
      const big = series((large.to - large.from) / large.slotMs, 4);
      expect(bodies.assemble(large, big, dayParts(large, big).slice(0, 3))).toBeUndefined();
      const all = bodies.assemble(large, big, dayParts(large, big));
      expect(all && Buffer.from(all).equals(want(large, big))).toBe(true);
      expect(bodies.stats.assembled).toBe(4);
    } finally {
      await bodies.close();
    }
  });
});
