import { describe, expect, it } from 'vitest';
import { forEachLine } from '../ingest/lines.js';
import { forEachLineInSlices, parseJsonArrayInSlices } from './slices.js';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

describe('forEachLineInSlices', () => {
  it('gives the lines and indexes forEachLine gives for the whole text (random texts, multi-byte, \\r\\n, long lines)', async () => {
    const rnd = prng(3);
    const pool = ['a', 'b', ' ', '\n', '\n', '\r\n', 'ü', '中', '😀', 'x'.repeat(70_000)];
    for (let k = 0; k < 60; k++) {
      let text = '';
      const n = Math.floor(rnd() * 400);
      for (let i = 0; i < n; i++) text += pool[Math.floor(rnd() * (rnd() < 0.02 ? pool.length : pool.length - 1))];
      const whole: Array<[string, number]> = [];
      forEachLine(text, (line, index) => whole.push([line, index]));
      const sliced: Array<[string, number]> = [];
      await forEachLineInSlices(Buffer.from(text, 'utf8'), (line, index) => sliced.push([line, index]), 0);
      expect(sliced).toEqual(whole);
    }
  });

  it('numbers lines across 64 KiB slices as in the whole text', async () => {
    const text = Array.from({ length: 30_000 }, (_, i) => (i % 7 === 0 ? '' : `line ${i}`)).join('\n');
    const whole: Array<[string, number]> = [];
    forEachLine(text, (line, index) => whole.push([line, index]));
    const sliced: Array<[string, number]> = [];
    await forEachLineInSlices(Buffer.from(text), (line, index) => sliced.push([line, index]), 0);
    expect(sliced).toEqual(whole);
  });
});

describe('parseJsonArrayInSlices', () => {
  const same = async (text: string): Promise<void> => {
    let expected: unknown;
    try {
      expected = JSON.parse(text) as unknown;
    } catch {
      expected = 'invalid';
    }
    const got = await parseJsonArrayInSlices(text, 1000, 0);
    // Texts not starting with [ are refused unparsed (the route tells "not JSON" from "not an array").
    if (text.trim() !== '' && !text.trim().startsWith('[')) expect(got, text).toEqual({ ok: false, why: 'not-array' });
    else if (expected === 'invalid') expect(got, text).toEqual({ ok: false, why: 'invalid' });
    else if (!Array.isArray(expected)) expect(got.ok, text).toBe(false);
    else expect(got, text).toEqual({ ok: true, items: expected });
  };

  it('agrees with JSON.parse on arrays, nesting, strings with brackets and escapes, and broken texts', async () => {
    for (const t of [
      '[]', ' [ ] ', '[1]', '[1,2,3]', '[{"a":"]","b":"\\"},{"}]', '[[1,[2]],{"x":{"y":[]}}]', '["\\\\"]', '[null,true,false,-1.5e3]',
      '[1,]', '[,1]', '[1 2]', '[', ']', '[1', '["abc]', '[{]', '[}]', '[1]]', '[1] x', '', '  ', '{"a":1}', '1', '"s"',
      '[{"a":1}{"b":2}]', '[01]', '[1,,2]', '[\n{"time": 1,\n "v": 2}\n,\n{"time": 2}\n]',
    ]) await same(t);
  });

  it('agrees with JSON.parse on random texts built from JSON tokens', async () => {
    const rnd = prng(11);
    const tokens = ['[', ']', '{', '}', ',', ':', '"a"', '"]"', '"\\""', '1', 'true', ' ', '"k"'];
    for (let k = 0; k < 3000; k++) {
      let t = '[';
      const n = Math.floor(rnd() * 12);
      for (let i = 0; i < n; i++) t += tokens[Math.floor(rnd() * tokens.length)];
      if (rnd() < 0.8) t += ']';
      await same(t);
    }
  });

  it('stops at maxItems + 1 without parsing the rest', async () => {
    expect(await parseJsonArrayInSlices('[1,2,3]', 3, 0)).toEqual({ ok: true, items: [1, 2, 3] });
    expect(await parseJsonArrayInSlices('[1,2,3,4, this is not json', 3, 0)).toEqual({ ok: false, why: 'too-many' });
  });
});
