import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { ClickHouseError, ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { HttpReads, jsonEachRow } from './http-read.js';
import { QueryTimeoutError } from '../types.js';
import { quote } from './sql.js';
import type { Endpoint } from './url.js';

export type Row = Record<string, unknown>;

/** ClickHouse's error code for a query stopped by max_execution_time (TIMEOUT_EXCEEDED). */
const TIMEOUT_EXCEEDED = '159';

export interface ChEndpointOptions {
  /** The HTTP client's socket timeout for every request (statements too); default 30 s. */
  requestTimeoutMs?: number;
  /**
   * Every SELECT not answered within this long fails with QueryTimeoutError (default: the request
   * timeout; the server passes --query-timeout-ms): ClickHouse stops it itself (max_execution_time, whole seconds, rounded
   * up), and the client aborts its request at the deadline and kills the query, so a stalled or
   * unreachable server never keeps a reader waiting for the socket timeout.
   */
  queryTimeoutMs?: number;
  /**
   * ClickHouse's query priorities (the `priority` setting; lower is higher, 0 none): the write path (statements and
   * its lookups) at WRITE_PRIORITY, reads at READ_PRIORITY, so a read's processing pauses at its next block while a
   * statement of the write path runs on the server (an ingest acknowledgement waits for three of them in turn).
   * Default false: every request at priority 0 (none).
   */
  readsYield?: boolean;
}

/** The `priority` of the write path's requests with ChEndpointOptions.readsYield. */
export const WRITE_PRIORITY = 1;
/** The `priority` of reads with ChEndpointOptions.readsYield: below WRITE_PRIORITY. */
export const READ_PRIORITY = 2;

/** Which socket pool a request uses: reads (queries) or the write path (statements and their lookups). */
export type Lane = 'read' | 'write';

export interface ExecOptions {
  queryId?: string;
  settings?: ClickHouseSettings;
  /**
   * The data of an `INSERT ... FORMAT <format>` statement (the statement then is only that line): sent as the
   * request body, the statement in the URL, so a big batch's rows never become one SQL string (sql.ts TsvBytes).
   */
  body?: Buffer;
}

/** What the store needs of a server: one ChEndpoint, or several behind a FailoverEndpoint (failover.ts). */
export interface ChConnection {
  readonly endpoint: Endpoint;
  readonly queryTimeoutMs: number;
  /** Statements that may have reached a server (attempted, not refused before connecting). */
  readonly commands: number;
  exec(sql: string, options?: ExecOptions): Promise<void>;
  /** A SELECT; `lane` 'write': on the statements' socket pool (the write path's own lookups: markers, the X-Batch-Id check). */
  rows(sql: string, signal?: AbortSignal, lane?: Lane): Promise<Row[]>;
  tsv(sql: string, signal?: AbortSignal): Promise<string>;
  close(): Promise<void>;
}

/**
 * One ClickHouse server reached over HTTP with the official `@clickhouse/client`.
 * Only features ClickHouse 18.16 understands are used: statements are complete SQL text
 * (literals from quote()), results come back as JSONEachRow, and no session or
 * server-side parameters are involved. The client's own logger is off: callers get
 * the errors and log them once.
 */
export class ChEndpoint implements ChConnection {
  /** Reads (SELECTs): their own socket pool, over plain node:http (http-read.ts). */
  private readonly reads: HttpReads;
  /**
   * Statements (inserts, DDL, KILL QUERY) on a socket pool of their own: with every read socket busy
   * (10 slow queries at once), an insert, hence an ingest acknowledgement, never waits for one to free.
   */
  private readonly writer: ClickHouseClient;
  readonly queryTimeoutMs: number;
  /** Settings every read carries (the read priority with ChEndpointOptions.readsYield). */
  private readonly readSettings: Record<string, string>;

  constructor(readonly endpoint: Endpoint, options: ChEndpointOptions = {}) {
    this.queryTimeoutMs = options.queryTimeoutMs ?? options.requestTimeoutMs ?? 30_000;
    this.readSettings = options.readsYield ? { priority: String(READ_PRIORITY) } : {};
    const config = {
      url: endpoint.url,
      username: endpoint.username,
      password: endpoint.password,
      request_timeout: options.requestTimeoutMs ?? 30_000,
      application: 'livestats',
      log: { level: ClickHouseLogLevel.OFF },
      // The client's settings for every request of the write path (a request's own settings are added to them).
      ...(options.readsYield ? { clickhouse_settings: { priority: String(WRITE_PRIORITY) } } : {}),
    };
    // A request on a socket the server already closed (its keep-alive timeout is 3 s up to 23.11) fails:
    // idle sockets are dropped well before that, and a socket found stale after an event-loop delay is
    // destroyed instead of used. On both pools: a write that fails so is in doubt (a retry and its writers'
    // wait), a read fails every query sharing it (a stamps read: every answer that joined it).
    const keepAlive = { keep_alive: { idle_socket_ttl: 2000, eagerly_destroy_stale_sockets: true } };
    this.reads = new HttpReads(endpoint);
    this.writer = createClient({ ...config, ...keepAlive });
  }

  /** Statements (exec) attempted so far, whatever their outcome: one that failed may still have run. */
  commands = 0;

  /** Runs a statement that returns no rows (DDL, INSERT ... VALUES). */
  async exec(sql: string, options: ExecOptions = {}): Promise<void> {
    this.commands++;
    if (options.body !== undefined) {
      const result = await this.writer.exec({
        query: sql,
        values: Readable.from([options.body]),
        query_id: options.queryId,
        clickhouse_settings: options.settings,
      });
      // Nothing useful in the answer: read to its end, which frees the socket.
      for await (const _ of result.stream) void _;
      return;
    }
    await this.writer.command({
      query: sql,
      query_id: options.queryId,
      clickhouse_settings: options.settings,
    });
  }

  /**
   * Runs a SELECT and returns its rows; 64-bit integers arrive as strings (use num()).
   * When `signal` aborts (the client has gone), or the query timeout passes, the HTTP request to
   * ClickHouse is aborted, the query is killed on the server (18.16 keeps running a query whose
   * HTTP client left), and the promise rejects: with `signal.reason`, or QueryTimeoutError.
   */
  async rows(sql: string, signal?: AbortSignal, lane: Lane = 'read'): Promise<Row[]> {
    return this.select(sql, 'JSONEachRow', signal, (text) => jsonEachRow<Row>(text), lane);
  }

  /**
   * Runs a SELECT and returns its TabSeparated text (one line per row, no header): for results of
   * numbers only, parsed without JSON (cheaper for thousands of rows). Aborts as rows() does.
   */
  async tsv(sql: string, signal?: AbortSignal): Promise<string> {
    return this.select(sql, 'TabSeparated', signal, (text) => text);
  }

  private async select<T>(sql: string, format: 'JSONEachRow' | 'TabSeparated', caller: AbortSignal | undefined,
    read: (text: string) => T, lane: Lane = 'read'): Promise<T> {
    try {
      return await this.selectOnce(sql, format, caller, read, lane);
    } catch (err) {
      // A SELECT that met a socket the server had just closed is sent once more, on a new socket: it changes nothing.
      if (!isStaleSocket(err) || caller?.aborted) throw err;
      return this.selectOnce(sql, format, caller, read, lane);
    }
  }

  private async selectOnce<T>(sql: string, format: 'JSONEachRow' | 'TabSeparated', caller: AbortSignal | undefined,
    read: (text: string) => T, lane: Lane): Promise<T> {
    caller?.throwIfAborted();
    const timeoutMs = this.queryTimeoutMs;
    const controller = new AbortController();
    const signal = controller.signal;
    const onCaller = (): void => controller.abort(caller?.reason);
    caller?.addEventListener('abort', onCaller, { once: true });
    const timer = setTimeout(() => controller.abort(new QueryTimeoutError(timeoutMs)), timeoutMs);
    const queryId = `livestats-read-${randomUUID()}`;
    let close: (() => void) | undefined;
    const onAbort = (): void => {
      close?.();
      // Best effort, not awaited: the caller is not kept waiting for the kill (a stalled server
      // gets it when it resumes; max_execution_time stops the query there too).
      this.writer.command({ query: `KILL QUERY WHERE query_id = ${quote(queryId)} ASYNC` }).catch(() => undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const maxSeconds = Math.ceil(timeoutMs / 1000);
      let text: string;
      if (lane === 'read') {
        // The request is aborted with `signal`; the query is killed by onAbort.
        text = await this.reads.text(`${withoutTrailingSemicolons(sql.trim())}\nFORMAT ${format}`,
          { ...this.readSettings, query_id: queryId, max_execution_time: String(maxSeconds) }, signal);
      } else {
        const result = await this.writer.query({
          query: sql, format, query_id: queryId, abort_signal: signal, clickhouse_settings: { max_execution_time: maxSeconds },
        });
        close = () => result.close();
        text = await result.text();
      }
      const out = read(text);
      signal.throwIfAborted();
      return out;
    } catch (err) {
      signal.throwIfAborted();
      if (err instanceof ClickHouseError && err.code === TIMEOUT_EXCEEDED) throw new QueryTimeoutError(timeoutMs);
      throw err;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      caller?.removeEventListener('abort', onCaller);
    }
  }

  async close(): Promise<void> {
    this.reads.close();
    await this.writer.close();
  }
}

/**
 * Waits for every one of several writes (undefined: none) and then throws the first failure: a
 * failed write never leaves another still running behind its caller's back (its retry must not race it).
 */
export async function settled(writes: ReadonlyArray<Promise<void> | undefined>): Promise<void> {
  const results = await Promise.allSettled(writes.filter((w): w is Promise<void> => w !== undefined));
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

/** The statement without the semicolons it ends with (a FORMAT clause follows it). */
function withoutTrailingSemicolons(sql: string): string {
  let end = sql.length;
  while (end > 0 && sql[end - 1] === ';') end--;
  return sql.slice(0, end);
}

/** A numeric column value (ClickHouse quotes 64-bit integers in JSON). */
export function num(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new Error(`ClickHouse returned a non-numeric value: ${String(v)}`);
  return n;
}

export function str(v: unknown): string {
  if (typeof v !== 'string') throw new Error(`ClickHouse returned a non-string value: ${String(v)}`);
  return v;
}

/** A request that failed because its keep-alive socket was closed by the server before or as it was sent. */
export function isStaleSocket(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof ClickHouseError || err instanceof QueryTimeoutError) return false;
  const code = (err as Error & { code?: unknown }).code;
  return code === 'ECONNRESET' || code === 'EPIPE' || err.message === 'socket hang up';
}
