import { describe, expect, it } from 'vitest';
import { valuesText } from './values-text.js';

const tupleOf = (n: number): string => `('p${n}', ${n})`;

describe('valuesText', () => {
  it('is the text of rows.map(tupleOf).join(", "), whatever the slice', async () => {
    for (const count of [0, 1, 2, 5, 7, 64, 1000]) {
      const rows = Array.from({ length: count }, (_, i) => i);
      for (const slice of [1, 2, 3, 7, 64, 2048]) expect(await valuesText(rows, tupleOf, slice), `${count}/${slice}`).toBe(rows.map(tupleOf).join(', '));
    }
  });

  it('lets the event loop turn between slices of a big batch (a task queued before runs before the text is done)', async () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => i);
    let turned = false;
    setImmediate(() => {
      turned = true;
    });
    const text = valuesText(rows, tupleOf, 2048);
    let doneBefore: boolean | undefined;
    void text.then(() => {
      doneBefore ??= turned;
    });
    await text;
    expect(doneBefore).toBe(true);
  });
});
