import { expect, it } from 'vitest';
import { toSamples } from '../store/sqlite/results.js';
import { carouselJson, type CarouselQuery } from './carousel.js';
import { assembleCarousel, renderCarousel, renderSampleLists } from './carousel-body.js';

let seed = 5;
const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;

it('writes exactly the bytes of carouselJson over the same samples, for random inputs', () => {
  for (let round = 0; round < 300; round++) {
    const start = Date.UTC(2025 + rnd(3), 11, 31, 23, 59, 30 + rnd(30)) + (round % 9 === 0 ? 400 : 0);
    const len = rnd(120);
    const present = Uint8Array.from({ length: len }, () => (rnd(4) === 0 ? 0 : 1));
    const values = Float64Array.from({ length: len * 4 }, () => (rnd(6) === 0 ? rnd(2 ** 30) * 2 ** 21 : rnd(4000)));
    const cols = { from: start + (rnd(7) - 3) * 1000, present, values };
    const q: CarouselQuery = { taskId: 't', start, end: start + rnd(100) * 1000 + rnd(3) * 300 };
    expect(Buffer.from(renderCarousel(q, cols)).toString('latin1')).toBe(carouselJson(q, toSamples(cols)));
  }
});

it('assembles the same bytes from stretches rendered ahead (each from its own columns), for random cuts', () => {
  for (let round = 0; round < 300; round++) {
    const start = Date.UTC(2025 + rnd(3), 11, 31, 23, 59, 30 + rnd(30));
    const len = rnd(150);
    const present = Uint8Array.from({ length: len }, () => (rnd(4) === 0 ? 0 : 1));
    const values = Float64Array.from({ length: len * 4 }, () => (rnd(6) === 0 ? rnd(2 ** 30) * 2 ** 21 : rnd(4000)));
    const cols = { from: start, present, values };
    // An end inside a second on some rounds (the route clamps the end to now): the last second is not listed.
    const q = { start, end: start + rnd(len + 1) * 1000 + (round % 5 === 0 ? 300 : 0) };
    const n = Math.floor((q.end - q.start) / 1000);
    const parts = [];
    for (let at = 0; at < n || parts.length === 0;) {
      const count = Math.min(n - at, rnd(3) === 0 ? 0 : 1 + rnd(40));
      // Half the stretches from their own columns (as a block holds its hour), half from the window's.
      const own = rnd(2) === 0
        ? { from: start + at * 1000, present: present.slice(at, at + count), values: values.slice(at * 4, (at + count) * 4) }
        : cols;
      parts.push(renderSampleLists(start + at * 1000, count, own));
      at += count;
      if (n === 0) break;
    }
    expect(Buffer.from(assembleCarousel(q, parts)).toString('latin1')).toBe(Buffer.from(renderCarousel(q, cols)).toString('latin1'));
  }
  expect(() => assembleCarousel({ start: 0, end: 5000 }, [renderSampleLists(0, 4, { from: 0, present: new Uint8Array(0), values: new Float64Array(0) })])).toThrow();
});
