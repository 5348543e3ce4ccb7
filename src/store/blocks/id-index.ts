/**
 * Numbers distinct block row ids (whole numbers 0..2^53) densely in first-seen order: an
 * open-addressing table of doubles, no boxing and no Map per id.
 */
export class BlockIdIndex {
  private keys: Float64Array;
  private slots: Int32Array;
  private mask: number;
  private list: Float64Array;
  size = 0;

  constructor(expected = 1024) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.keys = new Float64Array(cap);
    this.slots = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
    this.list = new Float64Array(Math.max(16, expected));
  }

  private static hash(id: number): number {
    // hi = floor(id / 2^32) (below 2^21 for ids below 2^53, so `| 0` floors it) and lo = id - hi x 2^32,
    // exactly what `id % 2^32` gives without a floating-point remainder (a library call in V8).
    const hi = (id / 4294967296) | 0;
    const lo = id - hi * 4294967296;
    return Math.imul((lo | 0) ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> 0;
  }

  /** The number of `id`, adding it when new. */
  add(id: number): number {
    let i = BlockIdIndex.hash(id) & this.mask;
    for (;;) {
      const s = this.slots[i] as number;
      if (s < 0) break;
      if (this.keys[i] === id) return s;
      i = (i + 1) & this.mask;
    }
    const n = this.size++;
    this.keys[i] = id;
    this.slots[i] = n;
    if (n === this.list.length) {
      const grown = new Float64Array(n * 2);
      grown.set(this.list);
      this.list = grown;
    }
    this.list[n] = id;
    if (this.size * 2 > this.mask) this.grow();
    return n;
  }

  /** The number of a known id; -1 when it was never added. */
  get(id: number): number {
    let i = BlockIdIndex.hash(id) & this.mask;
    for (;;) {
      const s = this.slots[i] as number;
      if (s < 0) return -1;
      if (this.keys[i] === id) return s;
      i = (i + 1) & this.mask;
    }
  }

  /** The ids by number (a view: valid until the next add). */
  ids(): Float64Array {
    return this.list.subarray(0, this.size);
  }

  private grow(): void {
    const cap = (this.mask + 1) * 2;
    this.keys = new Float64Array(cap);
    this.slots = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
    for (let n = 0; n < this.size; n++) {
      const id = this.list[n] as number;
      let i = BlockIdIndex.hash(id) & this.mask;
      while ((this.slots[i] as number) >= 0) i = (i + 1) & this.mask;
      this.keys[i] = id;
      this.slots[i] = n;
    }
  }
}
