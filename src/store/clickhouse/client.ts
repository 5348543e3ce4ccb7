import { randomUUID } from 'node:crypto';
import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseSettings, type ResultSet } from '@clickhouse/client';
import { quote } from './sql.js';
import type { Endpoint } from './url.js';

export type Row = Record<string, unknown>;

export interface ExecOptions {
  queryId?: string;
  settings?: ClickHouseSettings;
}

/**
 * One ClickHouse server reached over HTTP with the official `@clickhouse/client`.
 * Only features ClickHouse 18.16 understands are used: statements are complete SQL text
 * (literals from quote()), results come back as JSONEachRow, and no session or
 * server-side parameters are involved. The client's own logger is off: callers get
 * the errors and log them once.
 */
export class ChEndpoint {
  private readonly client: ClickHouseClient;

  constructor(readonly endpoint: Endpoint, requestTimeoutMs = 30_000) {
    this.client = createClient({
      url: endpoint.url,
      username: endpoint.username,
      password: endpoint.password,
      request_timeout: requestTimeoutMs,
      application: 'livestats',
      log: { level: ClickHouseLogLevel.OFF },
    });
  }

  /** Statements (exec) attempted so far, whatever their outcome: one that failed may still have run. */
  commands = 0;

  /** Runs a statement that returns no rows (DDL, INSERT ... VALUES). */
  async exec(sql: string, options: ExecOptions = {}): Promise<void> {
    this.commands++;
    await this.client.command({
      query: sql,
      query_id: options.queryId,
      clickhouse_settings: options.settings,
    });
  }

  /**
   * Runs a SELECT and returns its rows; 64-bit integers arrive as strings (use num()).
   * When `signal` aborts (the client has gone), the HTTP request to ClickHouse is aborted, the
   * query is killed on the server (18.16 keeps running a query whose HTTP client left), and the
   * promise rejects with `signal.reason`.
   */
  async rows(sql: string, signal?: AbortSignal): Promise<Row[]> {
    return this.select(sql, 'JSONEachRow', signal, (r) => r.json<Row>());
  }

  /**
   * Runs a SELECT and returns its TabSeparated text (one line per row, no header): for results of
   * numbers only, parsed without JSON (cheaper for thousands of rows). Aborts as rows() does.
   */
  async tsv(sql: string, signal?: AbortSignal): Promise<string> {
    return this.select(sql, 'TabSeparated', signal, (r) => r.text());
  }

  private async select<T>(sql: string, format: 'JSONEachRow' | 'TabSeparated', signal: AbortSignal | undefined,
    read: (r: ResultSet<typeof format>) => Promise<T>): Promise<T> {
    if (!signal) return read(await this.client.query({ query: sql, format }));
    signal.throwIfAborted();
    const queryId = `livestats-read-${randomUUID()}`;
    let close: (() => void) | undefined;
    const onAbort = (): void => {
      close?.();
      // Best effort, not awaited: the caller is not kept waiting for the kill.
      this.client.command({ query: `KILL QUERY WHERE query_id = ${quote(queryId)} ASYNC` }).catch(() => undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await this.client.query({ query: sql, format, query_id: queryId, abort_signal: signal });
      close = () => result.close();
      const out = await read(result);
      signal.throwIfAborted();
      return out;
    } catch (err) {
      signal.throwIfAborted();
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
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
