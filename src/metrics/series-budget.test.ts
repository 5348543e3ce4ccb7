import { expect, it } from 'vitest';
import { OTHER, SeriesBudget } from './series-budget.js';

it('keeps the first max names per project and folds the rest, counting each folded name once', () => {
  const folds: string[] = [];
  const b = new SeriesBudget(2, (p) => folds.push(p));
  expect(b.label('p1', 'a.com')).toBe('a.com');
  expect(b.label('p1', 'b.com')).toBe('b.com');
  expect(b.label('p1', 'c.com')).toBe(OTHER);
  expect(b.label('p1', 'c.com')).toBe(OTHER);
  expect(b.label('p1', 'a.com')).toBe('a.com');
  expect(b.label('p1', 'd.com')).toBe(OTHER);
  // another project has its own budget
  expect(b.label('p2', 'c.com')).toBe('c.com');
  expect(folds).toEqual(['p1', 'p1']);
});
