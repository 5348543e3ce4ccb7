import { expect, it } from 'vitest';
import { formatUtcSecond } from './time.js';
import { renderValueTimes } from './value-time-body.js';

let seed = 5;
const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
const SLOT_MS = [1000, 30_000, 60_000, 300_000, 420_000, 3_600_000, 86_400_000, 172_800_000];
const DAY = 86_400_000;

/** What the renderer must equal: JSON.stringify of the entries. */
const reference = (from: number, slotMs: number, values: readonly number[]): string =>
  JSON.stringify({ data_list: values.map((value, i) => ({ value, time: formatUtcSecond(from + i * slotMs) })) });

const render = (from: number, slotMs: number, values: readonly number[]): string =>
  Buffer.from(renderValueTimes({ slotMs, from, to: from + values.length * slotMs, count: values.length }, values)).toString('latin1');

it('writes the bytes of JSON.stringify: minutes across UTC midnights and years, seconds, odd starts and every kind of value', () => {
  for (let round = 0; round < 300; round++) {
    const slotMs = SLOT_MS[rnd(SLOT_MS.length)] as number;
    // Aligned starts mostly, some starting mid-minute or mid-second (written byte by byte).
    const day = Date.UTC(1970 + rnd(200), rnd(12), 1 + rnd(28));
    const from = day - rnd(3) * DAY + (rnd(4) === 0 ? rnd(DAY) : Math.floor(rnd(DAY) / slotMs) * slotMs);
    const count = rnd(round % 40 === 0 ? 12_000 : 300);
    const values = Array.from({ length: count }, () => {
      const r = rnd(9);
      return r === 0 ? 0 : r === 1 ? 2 ** 31 - 1 + rnd(3) : r === 2 ? 2 ** 53 - 1 - rnd(1000) : r === 3 ? rnd(1000) / 8 : r === 4 ? -rnd(1000) : rnd(100_000);
    });
    expect(render(from, slotMs, values)).toBe(reference(from, slotMs, values));
  }
});

it('writes the edges like JSON.stringify: no slot, the last minute of a day, New Year, before 1970 and after 9999', () => {
  expect(render(Date.UTC(2028, 0, 1), 60_000, [])).toBe('{"data_list":[]}');
  for (const from of [Date.UTC(2027, 11, 31, 23, 58), Date.UTC(1969, 11, 31, 23, 58), Date.UTC(9999, 11, 31, 23, 58), Date.UTC(2028, 1, 28, 23, 59)]) {
    const values = [1, 22, 333, 4444, 55555];
    expect(render(from, 60_000, values)).toBe(reference(from, 60_000, values));
  }
  // The digit tables' edges (one word below 10^4, two below 10^8, the general writer above), on minutes and off them.
  const edges = [0, 9, 10, 999, 1000, 9999, 10_000, 10_001, 99_999, 100_000, 1_000_000, 99_999_999, 100_000_000, 100_000_001, 2 ** 31, -1, 0.5, 1e21];
  for (const from of [Date.UTC(2028, 0, 1, 23, 50), Date.UTC(2028, 0, 1, 23, 50, 30)]) expect(render(from, 60_000, edges)).toBe(reference(from, 60_000, edges));
  // Fewer values than slots: the missing ones are 0 (a run of them too).
  const short = Buffer.from(renderValueTimes({ slotMs: 60_000, from: Date.UTC(2028, 0, 1), to: Date.UTC(2028, 0, 1) + 40 * 60_000, count: 40 }, [5, 6])).toString('latin1');
  expect(short).toBe(reference(Date.UTC(2028, 0, 1), 60_000, [5, 6, ...Array.from({ length: 38 }, () => 0)]));
  expect(render(Date.UTC(2028, 0, 1, 0, 0, 30), 60_000, [7, 8])).toBe(reference(Date.UTC(2028, 0, 1, 0, 0, 30), 60_000, [7, 8]));
});

it('writes runs of values of one length (copied from a day template) like JSON.stringify: every length, any phase, runs cut by days and by other values', () => {
  for (let round = 0; round < 200; round++) {
    const slotMs = [60_000, 300_000, 420_000, 3_600_000][rnd(4)] as number;
    // Starts on whole minutes at any minute of the day: templates of every phase.
    const from = Date.UTC(2000 + rnd(60), rnd(12), 1 + rnd(28)) + rnd(1440) * 60_000;
    const count = 1 + rnd(round % 20 === 0 ? 6000 : 900);
    const values: number[] = [];
    while (values.length < count) {
      // A run of one length (1 to 8 digits, or 9 and 10: written entry by entry), sometimes a short run or an odd value.
      const length = 1 + rnd(10);
      const run = rnd(4) === 0 ? 1 + rnd(8) : 8 + rnd(400);
      for (let k = 0; k < run && values.length < count; k++) values.push(length === 1 ? rnd(10) : 10 ** (length - 1) + rnd(9 * 10 ** (length - 1)));
      if (rnd(6) === 0) values.push([0.5, -3, 2 ** 40, 1e21][rnd(4)] as number);
    }
    values.length = count;
    expect(render(from, slotMs, values), `${from} ${slotMs}`).toBe(reference(from, slotMs, values));
  }
});
