/**
 * A Map and a Set of string keys split over many small hash tables (shards, by a cheap hash of the
 * key), so that no single table grows big: a V8 Map or Set doubles its table in one synchronous
 * step, ~50 ms of CPU at 262,144 entries, which the origin tracker's tables of 317,000 plays met
 * in the middle of a poll (docs/origin.md, "A huge statistics page"). Here a table doubles at
 * most at SHARDS times less.
 *
 * The order is a Map's: iteration follows insertion order (setting a key held keeps its place; a
 * key deleted and set again goes to the end), over one list linking every entry. As with a Map,
 * entries deleted during an iteration (the current one included) are skipped and entries added
 * during it are visited.
 */

/** Shards of a map (a power of two): at 320,000 entries each holds ~5,000 (a table growth of ~1 ms). */
const SHARDS = 64;

interface Node<V> {
  readonly key: string;
  value: V;
  prev: Node<V> | undefined;
  next: Node<V> | undefined;
  /** Deleted: its links are kept as they were when it left the list (an iterator standing on it finds its way on). */
  gone: boolean;
}

/** A 32-bit FNV-1a hash of the key's UTF-16 units. */
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class ShardedMap<V> implements Iterable<[string, V]> {
  /** Entries stepped through by every iteration (tests count an operation's steps: src/origin/tracker-cost.test.ts). */
  static steps = 0;
  private readonly shards: Array<Map<string, Node<V>>>;
  private head: Node<V> | undefined;
  private tail: Node<V> | undefined;
  private count = 0;

  constructor(shards = SHARDS) {
    this.shards = Array.from({ length: shards }, () => new Map<string, Node<V>>());
  }

  get size(): number {
    return this.count;
  }

  private shard(key: string): Map<string, Node<V>> {
    return this.shards[hash(key) % this.shards.length] as Map<string, Node<V>>;
  }

  has(key: string): boolean {
    return this.shard(key).has(key);
  }

  get(key: string): V | undefined {
    return this.shard(key).get(key)?.value;
  }

  set(key: string, value: V): this {
    const shard = this.shard(key);
    const held = shard.get(key);
    if (held) {
      held.value = value;
      return this;
    }
    const node: Node<V> = { key, value, prev: this.tail, next: undefined, gone: false };
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    shard.set(key, node);
    this.count++;
    return this;
  }

  delete(key: string): boolean {
    const shard = this.shard(key);
    const node = shard.get(key);
    if (!node) return false;
    shard.delete(key);
    this.count--;
    node.gone = true;
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    return true;
  }

  /** The entry after `node` in the list as it is now (`node` may have been deleted since it was reached). */
  private after(node: Node<V>): Node<V> | undefined {
    let n = node;
    while (n.gone) {
      if (!n.next) {
        // It was the last when it left: on from the nearest entry before it still in the list (or
        // from the head): every entry after that one came later.
        let p = n.prev;
        while (p?.gone) p = p.prev;
        return p ? p.next : this.head;
      }
      // Its next was in the list when it left; that one may have left since, and so on.
      n = n.next;
      if (!n.gone) return n;
    }
    return n.next;
  }

  private *nodes(): Generator<Node<V>> {
    for (let n = this.head; n; n = this.after(n)) {
      ShardedMap.steps++;
      yield n;
    }
  }

  *entries(): Generator<[string, V]> {
    for (const n of this.nodes()) yield [n.key, n.value];
  }

  *keys(): Generator<string> {
    for (const n of this.nodes()) yield n.key;
  }

  *values(): Generator<V> {
    for (const n of this.nodes()) yield n.value;
  }

  [Symbol.iterator](): Generator<[string, V]> {
    return this.entries();
  }
}

/** A Set of strings over a ShardedMap (the same order and iteration rules). */
export class ShardedSet implements Iterable<string> {
  private readonly map: ShardedMap<true>;

  constructor(shards = SHARDS) {
    this.map = new ShardedMap<true>(shards);
  }

  get size(): number {
    return this.map.size;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  add(key: string): this {
    this.map.set(key, true);
    return this;
  }

  delete(key: string): boolean {
    return this.map.delete(key);
  }

  [Symbol.iterator](): Generator<string> {
    return this.map.keys();
  }
}

/**
 * A Set of strings in shards, with no order (no list: nothing allocated per key beyond the tables'
 * own entries), for sets only asked has(): the keys a poll saw (OriginTracker.applySnapshot).
 */
export class ShardedKeySet {
  private readonly shards: Array<Set<string>>;
  private count = 0;

  constructor(shards = SHARDS) {
    this.shards = Array.from({ length: shards }, () => new Set<string>());
  }

  get size(): number {
    return this.count;
  }

  private shard(key: string): Set<string> {
    return this.shards[hash(key) % this.shards.length] as Set<string>;
  }

  has(key: string): boolean {
    return this.shard(key).has(key);
  }

  add(key: string): this {
    const shard = this.shard(key);
    if (!shard.has(key)) {
      shard.add(key);
      this.count++;
    }
    return this;
  }

  delete(key: string): boolean {
    const gone = this.shard(key).delete(key);
    if (gone) this.count--;
    return gone;
  }
}
