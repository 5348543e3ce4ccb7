import { decodeBlock, encodeBlock, MAX_KEY, type CellColumns } from './codec.js';
import { BlockFormatError } from './varint.js';

/**
 * Collects cells of one block in any order and encodes them sorted. In 'sum' mode a cell
 * added twice adds its measures (counters); in 'replace' mode the later one wins (samples).
 */
export class BlockBuilder {
  private readonly index = new Map<number, number>();
  private keys: Int32Array;
  private slotOf: Uint16Array;
  private values: Float64Array[];
  private n = 0;

  constructor(readonly slots: number, readonly measures: number, readonly mode: 'sum' | 'replace' = 'sum', capacity = 64) {
    this.keys = new Int32Array(capacity);
    this.slotOf = new Uint16Array(capacity);
    this.values = Array.from({ length: measures }, () => new Float64Array(capacity));
  }

  get size(): number {
    return this.n;
  }

  private grow(): void {
    const cap = this.keys.length * 2;
    const keys = new Int32Array(cap);
    keys.set(this.keys);
    this.keys = keys;
    const slots = new Uint16Array(cap);
    slots.set(this.slotOf);
    this.slotOf = slots;
    this.values = this.values.map((v) => {
      const next = new Float64Array(cap);
      next.set(v);
      return next;
    });
  }

  /** Adds (or replaces) one cell; `values` has one entry per measure. */
  add(key: number, slot: number, values: ArrayLike<number>): void {
    if (!(Number.isInteger(key) && key >= 0 && key <= MAX_KEY)) throw new RangeError(`key out of range: ${key}`);
    if (!(Number.isInteger(slot) && slot >= 0 && slot < this.slots)) throw new RangeError(`slot out of range: ${slot}`);
    const id = key * this.slots + slot;
    let i = this.index.get(id);
    if (i === undefined) {
      if (this.n === this.keys.length) this.grow();
      i = this.n++;
      this.index.set(id, i);
      this.keys[i] = key;
      this.slotOf[i] = slot;
      for (let m = 0; m < this.measures; m++) (this.values[m] as Float64Array)[i] = values[m] ?? 0;
      return;
    }
    for (let m = 0; m < this.measures; m++) {
      const col = this.values[m] as Float64Array;
      col[i] = this.mode === 'sum' ? (col[i] as number) + (values[m] ?? 0) : (values[m] ?? 0);
    }
  }

  /** Adds every cell of an encoded block (its slot count and measures must match). */
  addBlock(buf: Uint8Array): void {
    const { slots, cells } = decodeBlock(buf);
    if (slots !== this.slots) throw new BlockFormatError(`block has ${slots} slots, expected ${this.slots}`);
    if (cells.values.length !== this.measures) {
      throw new BlockFormatError(`block has ${cells.values.length} measures, expected ${this.measures}`);
    }
    const row = new Float64Array(this.measures);
    for (let i = 0; i < cells.count; i++) {
      for (let m = 0; m < this.measures; m++) row[m] = (cells.values[m] as Float64Array)[i] as number;
      this.add(cells.keys[i] as number, cells.slots[i] as number, row);
    }
  }

  /** The cells sorted by (key, slot). */
  cells(): CellColumns {
    const n = this.n;
    const order = new Float64Array(n);
    for (let i = 0; i < n; i++) order[i] = (this.keys[i] as number) * this.slots + (this.slotOf[i] as number);
    const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => (order[a] as number) - (order[b] as number));
    const keys = new Int32Array(n);
    const slots = new Uint16Array(n);
    const values = this.values.map(() => new Float64Array(n));
    for (let j = 0; j < n; j++) {
      const i = idx[j] as number;
      keys[j] = this.keys[i] as number;
      slots[j] = this.slotOf[i] as number;
      for (let m = 0; m < this.measures; m++) (values[m] as Float64Array)[j] = (this.values[m] as Float64Array)[i] as number;
    }
    return { count: n, keys, slots, values };
  }

  encode(): Uint8Array {
    return encodeBlock(this.slots, this.cells());
  }
}
