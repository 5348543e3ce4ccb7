import { describe, expect, it } from 'vitest';
import { SharedReads } from './stamp-reads.js';

/** A load whose reads the test returns by hand: each read's asked projects, and how to end it. */
function manualLoad(): { load: (projects: string[]) => Promise<string[]>; sent: Array<{ projects: string[]; done: () => void }> } {
  const sent: Array<{ projects: string[]; done: () => void }> = [];
  return {
    sent,
    load: (projects) => new Promise((resolve) => sent.push({ projects, done: () => resolve(projects) })),
  };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('SharedReads holdMs (the next read waits for the clients just answered)', () => {
  it('holds the read after one returned until the answered queries have asked again: one read for both', async () => {
    const { load, sent } = manualLoad();
    const reads = new SharedReads<string[]>((p) => load(p), 1, 60_000);
    const a = reads.read('a', ['d'], 0, 1);
    await turn();
    expect(sent.map((s) => s.projects)).toEqual([['a']]);
    // b arrives while a's read is in flight.
    const b = reads.read('b', ['d'], 0, 1);
    await turn();
    sent[0]?.done();
    expect(await a).toEqual(['a']);
    await turn();
    // a's read answered one query and b waits: held until two wait (a's client asks again).
    expect(sent).toHaveLength(1);
    const a2 = reads.read('a2', ['d'], 0, 1);
    await turn();
    expect(sent.map((s) => s.projects)).toEqual([['a'], ['b', 'a2']]);
    sent[1]?.done();
    expect(await b).toEqual(['b', 'a2']);
    expect(await a2).toEqual(['b', 'a2']);
    expect(reads.stats).toEqual({ reads: 2, queries: 3 });
  });

  it('sends the held read after holdMs when the answered clients do not ask again', async () => {
    const { load, sent } = manualLoad();
    const reads = new SharedReads<string[]>((p) => load(p), 1, 20);
    const a = reads.read('a', ['d'], 0, 1);
    await turn();
    const b = reads.read('b', ['d'], 0, 1);
    await turn();
    sent[0]?.done();
    await a;
    await turn();
    expect(sent).toHaveLength(1);
    // Nobody else comes: b's read goes once the hold ends.
    while (sent.length < 2) await new Promise((r) => setTimeout(r, 5));
    expect(sent[1]?.projects).toEqual(['b']);
    sent[1]?.done();
    expect(await b).toEqual(['b']);
  });

  it('holds nothing without holdMs, nor a query on an idle node', async () => {
    const { load, sent } = manualLoad();
    const plain = new SharedReads<string[]>((p) => load(p), 1);
    const a = plain.read('a', ['d'], 0, 1);
    await turn();
    const b = plain.read('b', ['d'], 0, 1);
    await turn();
    sent[0]?.done();
    await a;
    await turn();
    await turn();
    expect(sent.map((s) => s.projects)).toEqual([['a'], ['b']]);
    sent[1]?.done();
    await b;
    const held = manualLoad();
    const idle = new SharedReads<string[]>((p) => held.load(p), 1, 60_000);
    const c = idle.read('c', ['d'], 0, 1);
    await turn();
    expect(held.sent.map((s) => s.projects)).toEqual([['c']]);
    held.sent[0]?.done();
    await c;
  });
});
