import { classifyStoreError, neverConnected } from '../../health/store-faults.js';
import { QueryTimeoutError } from '../types.js';
import type { ChConnection, ChEndpoint, ExecOptions, Lane, Row } from './client.js';
import type { Endpoint } from './url.js';

/**
 * Several servers that each answer for the whole cluster (replicated layout: every listed server
 * reads and writes through the Distributed tables), used one at a time: the last one that answered.
 *
 * - A read (idempotent) that cannot reach its server, or times out there, is tried on the next
 *   server, each server at most once per read; a read the caller aborted is not tried again.
 * - A statement is tried on the next server only when it certainly never reached the previous one
 *   (connection refused, host unreachable: nothing was sent). Any other failure is the caller's
 *   (the write may have landed: the store's retry with markers decides), and the next statement
 *   starts on the next server when the failure says the server is unreachable or read-only.
 */
export class FailoverEndpoint implements ChConnection {
  private active = 0;
  private sent = 0;

  constructor(private readonly servers: readonly ChEndpoint[]) {
    if (servers.length === 0) throw new Error('no ClickHouse server');
  }

  /** The server used now. */
  get endpoint(): Endpoint {
    return this.current.endpoint;
  }

  get queryTimeoutMs(): number {
    return this.current.queryTimeoutMs;
  }

  get commands(): number {
    return this.sent;
  }

  private get current(): ChEndpoint {
    return this.servers[this.active] as ChEndpoint;
  }

  private moveOn(from: number): void {
    if (this.active === from) this.active = (from + 1) % this.servers.length;
  }

  async exec(sql: string, options?: ExecOptions): Promise<void> {
    let last: unknown;
    for (let i = 0; i < this.servers.length; i++) {
      const at = this.active;
      try {
        await this.current.exec(sql, options);
        this.sent++;
        return;
      } catch (err) {
        last = err;
        if (neverConnected(err)) {
          this.moveOn(at);
          continue;
        }
        this.sent++;
        if (unreachable(err) || readOnly(err)) this.moveOn(at);
        throw err;
      }
    }
    throw last;
  }

  rows(sql: string, signal?: AbortSignal, lane?: Lane): Promise<Row[]> {
    return this.read((s) => s.rows(sql, signal, lane), signal);
  }

  tsv(sql: string, signal?: AbortSignal): Promise<string> {
    return this.read((s) => s.tsv(sql, signal), signal);
  }

  private async read<T>(run: (server: ChEndpoint) => Promise<T>, signal?: AbortSignal): Promise<T> {
    let last: unknown;
    for (let i = 0; i < this.servers.length; i++) {
      const at = this.active;
      try {
        return await run(this.current);
      } catch (err) {
        last = err;
        if (signal?.aborted || !(unreachable(err) || err instanceof QueryTimeoutError)) throw err;
        this.moveOn(at);
      }
    }
    throw last;
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.close()));
  }
}

const unreachable = (err: unknown): boolean => !(err instanceof QueryTimeoutError) && classifyStoreError(err) === 'store_unreachable';

/** TABLE_IS_READ_ONLY (242): a replica without its ZooKeeper session takes no inserts. */
const readOnly = (err: unknown): boolean => err instanceof Error && /\b242\b|read-?only/i.test(`${(err as { code?: unknown }).code ?? ''} ${err.message}`);
