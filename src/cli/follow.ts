import { warnNoRequestTime } from '../ingest/audience/notes.js';
import { StoreUnavailableError } from '../health/store-faults.js';
import type { Aggregator } from '../ingest/aggregator.js';
import { Follower } from '../ingest/follow/follower.js';
import type { ProcessorSettings } from '../ingest/setup.js';
import type { IngestMetrics } from '../metrics/ingest.js';
import type { NameGate } from '../ingest/name-limits.js';
import type { Store } from '../store/types.js';

export interface FollowCommandOptions {
  project: string;
  files: string[];
  settings: ProcessorSettings;
  aggregator: Aggregator;
  store: Store;
  pollMs: number;
  /** Reads each followed file's line counts at every scrape (source "follow"). */
  metrics?: IngestMetrics;
  /** The project's name caps. */
  names?: NameGate;
}

/**
 * Follows files until SIGTERM/SIGINT, then flushes (counts and offsets together) and returns 0; 1 when
 * the store refused that last write (nothing is lost: the next run reads on from the committed offsets).
 */
export async function followFiles(o: FollowCommandOptions): Promise<number> {
  const followers = o.files.map((path) => {
    const follower = new Follower({
      path,
      project: o.project,
      settings: o.settings,
      aggregator: o.aggregator,
      getCheckpoint: (key) => o.store.getCheckpoint(key),
      pollMs: o.pollMs,
      ...(o.names ? { names: o.names } : {}),
      onError: (err) => console.error(`livestats ingest: ${path}: ${(err as Error).message}`),
    });
    o.metrics?.track('follow', () => follower.processor.stats);
    return follower;
  });
  for (const f of followers) await f.start();
  console.error(`livestats ingest: following ${o.files.join(', ')} (Ctrl-C to stop)`);
  // Said once per run, as soon as a followed file shows FLV lines without $request_time.
  let warned = false;
  const notes = setInterval(() => {
    for (const f of followers) warned = warnNoRequestTime(f.processor.stats, warned, (msg) => console.error(`livestats ingest: ${msg}`));
  }, 1000);
  notes.unref();
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  clearInterval(notes);
  for (const f of followers) await f.stop();
  const totals = followers.map((f) => `${f.path}`).join(', ');
  try {
    await o.aggregator.stop();
  } catch (err) {
    const why = err instanceof StoreUnavailableError ? `the store refused the last write (${err.reason})` : `the last write failed (${(err as Error).message})`;
    console.error(`livestats ingest: stopped following ${totals}; ${why}: the lines read since the last commit will be read again on the next start`);
    return 1;
  }
  const rejected = followers.reduce((n, f) => n + f.rejectedLines, 0);
  if (rejected > 0) console.error(`livestats ingest: ${rejected} lines were skipped because the store rejected their data`);
  console.error(`livestats ingest: stopped following ${totals}`);
  return 0;
}
