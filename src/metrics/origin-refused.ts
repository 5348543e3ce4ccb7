import { Counter, type Registry } from 'prom-client';
import type { OriginTracker } from '../origin/tracker.js';

/**
 * The origin intake's refusals in /metrics: notifications and statistics-page entries not applied,
 * by reason (bad_call, bad_name, bad_client, ignored_call, unknown_session, stale_event, stream_limit,
 * span_cut, bad_counter; see docs/origin.md). Read from the tracker at scrape time.
 */
export function originRefusedCounter(registry: Registry, tracker: Pick<OriginTracker, 'refused'>): void {
  new Counter({
    name: 'livestats_origin_refused_total',
    help: 'Origin notifications and statistics-page entries not applied (or applied cut), by reason',
    labelNames: ['reason'],
    registers: [registry],
    collect(this: Counter<'reason'>) {
      this.reset();
      for (const [reason, n] of tracker.refused) this.inc({ reason }, n);
    },
  });
}
