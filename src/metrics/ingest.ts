import { Counter, type Registry } from 'prom-client';
import { DROP_REASONS, type DropReason } from '../ingest/formats/types.js';
import type { IngestStats } from '../ingest/processor.js';
import { AUDIENCE_NOTES, type AudienceNote } from '../ingest/audience/audience-counter.js';

export const INGEST_SOURCES = ['batch', 'follow', 'syslog', 'http'] as const;
export type IngestSource = (typeof INGEST_SOURCES)[number];

interface Tracked {
  source: IngestSource;
  read: () => IngestStats;
  accepted: number;
  dropped: Partial<Record<DropReason, number>>;
  audience: Partial<Record<AudienceNote, number>>;
}

/**
 * Access-log lines per source: accepted, dropped per reason, and (of the accepted stream lines)
 * those whose audience part was cut or left out, per reason (AUDIENCE_NOTES: a fixed set, so the
 * series are capped at sources x reasons). Sources either hand over what
 * one run counted (`record`, e.g. one HTTP request) or are read at scrape time (`track`, for
 * processors that keep counting, such as syslog and followed files). Nothing runs per line.
 */
export class IngestMetrics {
  private readonly accepted: Counter<'source'>;
  private readonly dropped: Counter<'source' | 'reason'>;
  private readonly audience: Counter<'source' | 'reason'>;
  private readonly replays: Counter;
  private readonly tracked: Tracked[] = [];

  constructor(registry: Registry) {
    const tracked = this.tracked;
    const fold = (): void => {
      for (const t of tracked) this.foldTracked(t);
    };
    this.accepted = new Counter({
      name: 'livestats_ingest_lines_accepted_total',
      help: 'Access-log lines counted, by source',
      labelNames: ['source'],
      registers: [registry],
      collect: fold,
    });
    this.dropped = new Counter({
      name: 'livestats_ingest_lines_dropped_total',
      help: 'Access-log lines dropped, by source and reason',
      labelNames: ['source', 'reason'],
      registers: [registry],
      collect: fold,
    });
    this.audience = new Counter({
      name: 'livestats_ingest_audience_dropped_total',
      help: 'Access-log lines counted whose audience part (viewers, users) was cut or left out, by source and reason',
      labelNames: ['source', 'reason'],
      registers: [registry],
      collect: fold,
    });
    this.replays = new Counter({
      name: 'livestats_ingest_batch_replays_total',
      help: 'HTTP log batches acknowledged without counting again (an X-Batch-Id already taken)',
      registers: [registry],
    });
    for (const source of INGEST_SOURCES) {
      this.accepted.inc({ source }, 0);
      for (const reason of DROP_REASONS) this.dropped.inc({ source, reason }, 0);
      for (const reason of AUDIENCE_NOTES) this.audience.inc({ source, reason }, 0);
    }
  }

  /** Adds what one run (request, file batch) counted. */
  record(source: IngestSource, stats: IngestStats): void {
    if (stats.accepted > 0) this.accepted.inc({ source }, stats.accepted);
    for (const reason of DROP_REASONS) {
      const n = stats.dropped[reason] ?? 0;
      if (n > 0) this.dropped.inc({ source, reason }, n);
    }
    for (const reason of AUDIENCE_NOTES) {
      const n = stats.audience?.[reason] ?? 0;
      if (n > 0) this.audience.inc({ source, reason }, n);
    }
  }

  /** Reads a processor's running totals at every scrape, adding what is new. */
  track(source: IngestSource, read: () => IngestStats): void {
    this.tracked.push({ source, read, accepted: 0, dropped: {}, audience: {} });
  }

  replayed(): void {
    this.replays.inc();
  }

  private foldTracked(t: Tracked): void {
    const s = t.read();
    // Totals only grow; a smaller one means the source started counting anew.
    const since = (now: number, before: number): number => (now >= before ? now - before : now);
    const delta: IngestStats = { lines: 0, accepted: since(s.accepted, t.accepted), dropped: {}, audience: {} };
    t.accepted = s.accepted;
    for (const reason of DROP_REASONS) {
      const now = s.dropped[reason] ?? 0;
      delta.dropped[reason] = since(now, t.dropped[reason] ?? 0);
      t.dropped[reason] = now;
    }
    for (const reason of AUDIENCE_NOTES) {
      const now = s.audience?.[reason] ?? 0;
      (delta.audience as Partial<Record<AudienceNote, number>>)[reason] = since(now, t.audience[reason] ?? 0);
      t.audience[reason] = now;
    }
    this.record(t.source, delta);
  }
}
