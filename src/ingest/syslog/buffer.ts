import { BatchRejectedError } from '../../health/store-faults.js';
import type { Aggregator } from '../aggregator.js';
import { addCells, type CellBatch } from '../cells.js';

interface Held {
  cells: CellBatch;
  lines: number;
}

const linesOf = (cells: CellBatch): number => {
  let n = 0;
  for (let i = 0; i < cells.counts.length; i++) n += cells.counts[i] as number;
  return n;
};

/**
 * Syslog has no acknowledgement to withhold, so counted lines wait here until the store has
 * them: fed to the aggregator while the store accepts writes, kept (and re-fed once it does
 * again) when it refuses them. At most `maxLines` are held; beyond that new lines are dropped
 * and counted as `buffer_full`. Lines the store rejected for their data (BatchRejectedError, not an
 * outage) are dropped and counted as `rejected`: fed again they would only fail again.
 */
export class SyslogBuffer {
  private backlog: Held[] = [];
  private readonly unconfirmed = new Set<Held>();
  private heldLines = 0;
  /** Lines dropped because the buffer was full. */
  dropped = 0;
  /** Lines dropped because the store rejected their data. */
  rejected = 0;

  constructor(private readonly aggregator: Aggregator, private readonly project: string, private readonly maxLines: number) {}

  /** Lines held (waiting for the store or for their commit). */
  get lines(): number {
    return this.heldLines;
  }

  /** Takes counted cells; false when they were dropped (buffer full). */
  add(cells: CellBatch): boolean {
    const lines = linesOf(cells);
    if (lines === 0) return true;
    if (this.heldLines + lines > this.maxLines) {
      this.dropped += lines;
      return false;
    }
    this.heldLines += lines;
    this.backlog.push({ cells, lines });
    return true;
  }

  /** Feeds the backlog to the aggregator when the store accepts writes; call periodically. */
  pump(): void {
    if (this.backlog.length === 0 || !this.aggregator.health.ok) return;
    const batch = this.backlog;
    this.backlog = [];
    for (const h of batch) {
      addCells(this.aggregator, this.project, h.cells);
      this.unconfirmed.add(h);
    }
    this.aggregator.committed(this.project).then(
      () => {
        for (const h of batch) {
          this.unconfirmed.delete(h);
          this.heldLines -= h.lines;
        }
      },
      (err: unknown) => {
        for (const h of batch) this.unconfirmed.delete(h);
        if (err instanceof BatchRejectedError) {
          for (const h of batch) {
            this.heldLines -= h.lines;
            this.rejected += h.lines;
          }
          return;
        }
        // Refused: never stored, so fed again (once) when the store is back.
        this.backlog = [...batch, ...this.backlog];
      },
    );
  }
}
