/** An open-addressing hash table from small non-negative integer keys to counts (no boxing, one probe usually). */
export class IntCounts {
  private keys: Int32Array;
  private values: Float64Array;
  private bytes: Float64Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1 << 12) {
    this.keys = new Int32Array(capacity).fill(-1);
    this.values = new Float64Array(capacity);
    this.bytes = new Float64Array(capacity);
    this.mask = capacity - 1;
  }

  /** Adds n to a key's count and b to its bytes. */
  add(key: number, n: number, b = 0): void {
    let i = Math.imul(key, 0x9e3779b1) >>> 0 & this.mask;
    const keys = this.keys;
    for (;;) {
      const k = keys[i] as number;
      if (k === key) {
        (this.values[i] as number) += n;
        (this.bytes[i] as number) += b;
        return;
      }
      if (k === -1) break;
      i = (i + 1) & this.mask;
    }
    keys[i] = key;
    this.values[i] = n;
    this.bytes[i] = b;
    if (++this.size * 2 > this.mask) this.grow();
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const oldBytes = this.bytes;
    this.keys = new Int32Array(oldKeys.length * 2).fill(-1);
    this.values = new Float64Array(oldKeys.length * 2);
    this.bytes = new Float64Array(oldKeys.length * 2);
    this.mask = oldKeys.length * 2 - 1;
    this.size = 0;
    for (let i = 0; i < oldKeys.length; i++) if ((oldKeys[i] as number) >= 0) this.add(oldKeys[i] as number, oldValues[i] as number, oldBytes[i] as number);
  }

  /** Copies out the entries in ascending key order and empties the table. */
  take(): { keys: Int32Array; counts: Float64Array; bytes: Float64Array } {
    const keys = new Int32Array(this.size);
    let j = 0;
    for (let i = 0; i < this.keys.length; i++) if ((this.keys[i] as number) >= 0) keys[j++] = this.keys[i] as number;
    // Key order keeps cells of one block together for the store's merge (and costs a native sort).
    keys.sort();
    const counts = new Float64Array(this.size);
    const bytes = new Float64Array(this.size);
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k] as number;
      let i = Math.imul(key, 0x9e3779b1) >>> 0 & this.mask;
      while (this.keys[i] !== key) i = (i + 1) & this.mask;
      counts[k] = this.values[i] as number;
      bytes[k] = this.bytes[i] as number;
    }
    this.keys = new Int32Array(1 << 12).fill(-1);
    this.values = new Float64Array(1 << 12);
    this.bytes = new Float64Array(1 << 12);
    this.mask = (1 << 12) - 1;
    this.size = 0;
    return { keys, counts, bytes };
  }
}
