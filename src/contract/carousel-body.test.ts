import { expect, it } from 'vitest';
import { toSamples } from '../store/sqlite/results.js';
import { carouselJson, type CarouselQuery } from './carousel.js';
import { renderCarousel } from './carousel-body.js';

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
