import { classifyStoreError, type FaultReason } from './store-faults.js';

export interface HealthLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface StoreHealthSnapshot {
  status: 'ok' | 'degraded';
  /** Set while degraded. */
  reason?: FaultReason;
  /** Epoch ms the current outage began (while degraded). */
  since?: number;
  /** Failed writes since the process started. */
  failedWrites: number;
  /** Failed reads that writers depend on (the X-Batch-Id ledger) since the process started. */
  failedReads: number;
  /** Records refused (never stored) since the process started. */
  refusedRecords: number;
  /** Store outages since the process started. */
  outages: number;
}

export interface StoreHealthOptions {
  logger?: HealthLogger;
  now?: () => number;
  /** At most one "still failing" log line per this many ms (default 60 s). */
  summaryIntervalMs?: number;
}

const silent: HealthLogger = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * Whether the store accepts writes: degraded from the first failed write until the next
 * successful one. The first failure of an outage is logged with its error; later ones are
 * only counted and summarised at most once per summary interval; recovery is logged with
 * the outage's totals. A store that flaps gets at most one outage and one recovery line per
 * interval. Shared by the aggregator (which reports), /healthz and metrics (which read).
 */
export class StoreHealth {
  private degraded: { reason: FaultReason; since: number; failures: number; refused: number; lastSummary: number } | undefined;
  private failedWrites = 0;
  private failedReads = 0;
  private refusedRecords = 0;
  private outages = 0;
  private reportedOutages = 0;
  private lastOutageLog: number | undefined;
  private lastRecoveryLog: number | undefined;
  private readonly listeners: Array<(s: StoreHealthSnapshot) => void> = [];
  private readonly logger: HealthLogger;
  private readonly now: () => number;
  private readonly summaryIntervalMs: number;

  constructor(options: StoreHealthOptions = {}) {
    this.logger = options.logger ?? silent;
    this.now = options.now ?? Date.now;
    this.summaryIntervalMs = options.summaryIntervalMs ?? 60_000;
  }

  get ok(): boolean {
    return this.degraded === undefined;
  }

  /** A write failed (or did not answer in time): returns the fault's reason. */
  writeFailed(err: unknown): FaultReason {
    this.failedWrites++;
    return this.failed(err);
  }

  /**
   * A read that writes depend on failed (the X-Batch-Id ledger: a batch with an id cannot be
   * accepted without it): degraded as for a failed write, until a write succeeds (the
   * aggregator's probe notices the recovery by itself).
   */
  readFailed(err: unknown): FaultReason {
    this.failedReads++;
    return this.failed(err);
  }

  private failed(err: unknown): FaultReason {
    const reason = classifyStoreError(err);
    const now = this.now();
    const d = this.degraded;
    if (!d) {
      this.outages++;
      this.degraded = { reason, since: now, failures: 1, refused: 0, lastSummary: now };
      // A store that flaps (a full disk that takes small writes) is logged once per interval, not per flap.
      if (this.lastOutageLog === undefined || now - this.lastOutageLog >= this.summaryIntervalMs) {
        this.lastOutageLog = now;
        this.logger.error({ err, reason, outages_since_last_report: this.outages - this.reportedOutages }, 'store unavailable: writes fail; new data is refused until a write succeeds');
        this.reportedOutages = this.outages;
      }
      this.changed();
      return reason;
    }
    d.failures++;
    if (d.reason !== reason) {
      d.reason = reason;
      this.changed();
    }
    if (now - d.lastSummary >= this.summaryIntervalMs) {
      d.lastSummary = now;
      this.logger.warn({ reason, since: new Date(d.since).toISOString(), failed_writes: d.failures, refused_records: d.refused, last_error: String((err as Error)?.message ?? err) },
        'store still unavailable');
    }
    return reason;
  }

  /** Records (lines, samples) that were refused and will never be counted. */
  refused(records: number): void {
    this.refusedRecords += records;
    if (this.degraded) this.degraded.refused += records;
  }

  /** A write succeeded: back to ok (logged once with the outage's totals). */
  writeSucceeded(): void {
    const d = this.degraded;
    if (!d) return;
    this.degraded = undefined;
    const now = this.now();
    if (this.lastRecoveryLog === undefined || now - this.lastRecoveryLog >= this.summaryIntervalMs) {
      this.lastRecoveryLog = now;
      this.logger.info({ reason: d.reason, outage_ms: now - d.since, failed_writes: d.failures, refused_records: d.refused, outages: this.outages },
        'store available again: writes succeed');
    }
    this.changed();
  }

  snapshot(): StoreHealthSnapshot {
    const d = this.degraded;
    const base = { failedWrites: this.failedWrites, failedReads: this.failedReads, refusedRecords: this.refusedRecords, outages: this.outages };
    return d ? { status: 'degraded', reason: d.reason, since: d.since, ...base } : { status: 'ok', ...base };
  }

  /** Called on every change between ok and degraded (and of the reason). */
  onChange(listener: (s: StoreHealthSnapshot) => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    const s = this.snapshot();
    for (const l of this.listeners) l(s);
  }
}
