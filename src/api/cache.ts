/** An answer body: JSON text, or bytes a store rendered. */
export type CachedBody = string | Buffer;

const sizeOf = (body: CachedBody): number => (typeof body === 'string' ? body.length * 2 : body.byteLength);

/**
 * A small response cache for the stats endpoints. Dashboards and alerting poll the same
 * queries every few seconds; an answer is kept for at most `ttlMs` and dropped as soon as
 * this node writes new data for its project, so it never hides data this node has stored.
 * Writes made by other nodes (ClickHouse cluster) are seen after at most `ttlMs`.
 */
export class ResponseCache {
  private readonly entries = new Map<string, { project: string; body: CachedBody; expires: number }>();
  private bytes = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxBytes = 64 * 2 ** 20,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  /**
   * The key an answer is kept under, made only while the cache is on: with it off (the
   * `--query-cache-ms 0` default of benchmarks and of many deployments) nothing is ever stored, so
   * the key's text (a JSON.stringify of the filter on most routes) is not built on every answer.
   */
  key(make: () => string): string {
    return this.enabled ? make() : '';
  }

  get(key: string): CachedBody | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.delete(key);
      return undefined;
    }
    return e.body;
  }

  set(project: string, key: string, body: CachedBody): void {
    if (!this.enabled || sizeOf(body) > this.maxBytes) return;
    this.delete(key);
    this.entries.set(key, { project, body, expires: this.now() + this.ttlMs });
    this.bytes += sizeOf(body);
    // Evict oldest first (Map keeps insertion order).
    for (const [k] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(k);
    }
  }

  /** Drops every answer of a project (called when this node stored new data for it). */
  invalidate(projects: Iterable<string>): void {
    const set = new Set(projects);
    if (set.size === 0) return;
    for (const [k, e] of this.entries) if (set.has(e.project)) this.delete(k);
  }

  private delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.bytes -= sizeOf(e.body);
    this.entries.delete(key);
  }
}
