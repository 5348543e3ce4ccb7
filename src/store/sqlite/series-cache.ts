import type Database from 'better-sqlite3';
import type { Cube } from '../blocks/cube.js';
import { allocateSeries, seriesLimit } from './series-ids.js';

/**
 * Ids a writer looked up or created inside a write transaction (cube series ids, and any other
 * key -> id of its own), cached for later batches only once the transaction has committed
 * (`commit`), so a rolled-back batch leaves no stale id behind (`rollback`).
 */
export class CommittedIds {
  private readonly ids = new Map<string, number>();
  private fresh = new Map<string, number>();

  /** The id of `key`: cached, else `make()` (run inside the transaction; undefined: none, not cached). */
  id(key: string, make: () => number | undefined): number | undefined {
    const known = this.ids.get(key) ?? this.fresh.get(key);
    if (known !== undefined) return known;
    const id = make();
    if (id !== undefined) this.fresh.set(key, id);
    return id;
  }

  /** The series id of a cube's tuple; -1 when the cube has none left (see series-ids.ts). */
  series(db: Database.Database, cube: Cube, tuple: string[]): number {
    // NUL cannot occur in a domain, and app/stream names exclude control characters: the join is unique.
    return this.id(`${cube.spec.name}\u0000${tuple.join('\u0000')}`, () => allocateSeries(db, cube, tuple, seriesLimit(cube))) ?? -1;
  }

  /** The transaction committed: keep its new ids. */
  commit(): void {
    for (const [k, v] of this.fresh) this.ids.set(k, v);
    this.fresh = new Map();
  }

  /** The transaction rolled back: forget its new ids. */
  rollback(): void {
    this.fresh = new Map();
  }
}
