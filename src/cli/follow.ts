import { StoreUnavailableError } from '../health/store-faults.js';
import type { Aggregator } from '../ingest/aggregator.js';
import { Follower } from '../ingest/follow/follower.js';
import type { ProcessorSettings } from '../ingest/setup.js';
import type { IngestMetrics } from '../metrics/ingest.js';
import type { NameGate } from '../ingest/name-limits.js';
import type { Store } from '../store/types.js';
import type { DropReason } from '../ingest/formats/types.js';
import { emptyNotes, mergeNotes } from '../ingest/notes.js';
import { emptyStats, mergeStats, type IngestStats } from '../ingest/processor.js';
import { dropLines, formatHint, runWarnings, summaryLine } from './ingest-report.js';

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
  /** A file followed for the first time is read from its end (--from-end), not its start. */
  fromEnd?: boolean;
  /** A summary of the lines read every this many ms (0: none); one is always printed on exit. */
  summaryIntervalMs?: number;
  /** Summaries and first drops as JSON lines on stdout (--json). */
  json?: boolean;
}

/** How often a new drop reason is looked for (to show its first line at once). */
const DROP_CHECK_MS = 1000;

const say = (msg: string): void => console.error(`livestats ingest: ${msg}`);

function statsDiff(now: IngestStats, before: IngestStats): IngestStats {
  const dropped: IngestStats['dropped'] = {};
  for (const [k, v] of Object.entries(now.dropped) as Array<[DropReason, number]>) {
    const d = v - (before.dropped[k] ?? 0);
    if (d > 0) dropped[k] = d;
  }
  return { lines: now.lines - before.lines, accepted: now.accepted - before.accepted, dropped };
}

const copyStats = (s: IngestStats): IngestStats => ({ ...s, dropped: { ...s.dropped } });

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
      ...(o.fromEnd ? { fromEnd: true } : {}),
      onEvent: (message) => {
        say(message);
        if (o.json) console.log(JSON.stringify({ type: 'event', file: path, message }));
      },
      onError: (err) => console.error(`livestats ingest: ${path}: ${(err as Error).message}`),
    });
    o.metrics?.track('follow', () => follower.processor.stats);
    return follower;
  });
  const started = Date.now();
  const total = (): IngestStats => {
    const t = emptyStats();
    for (const f of followers) mergeStats(t, f.processor.stats);
    return t;
  };
  // The first line dropped for each reason is shown at once (with the format that would read it).
  const shown = followers.map(() => new Set<DropReason>());
  // Each warning about the counted lines is said once per run, for the first file that shows it.
  const warned = new Set<string>();
  const showDrops = (): void => {
    followers.forEach((f, i) => {
      const seen = shown[i] as Set<DropReason>;
      for (const reason of Object.keys(f.processor.stats.dropped) as DropReason[]) {
        if (seen.has(reason)) continue;
        seen.add(reason);
        const sample = f.processor.notes.samples[reason];
        say(`${f.path}: a line was dropped as ${reason}${sample !== undefined ? `: ${sample}` : ''}`);
        const hint = formatHint(f.processor.stats, f.processor.notes, o.settings.format);
        if (hint) say(`hint: ${hint}`);
        if (o.json) console.log(JSON.stringify({ type: 'dropped', file: f.path, reason, sample, ...(hint ? { hint } : {}) }));
      }
      for (const w of runWarnings(f.processor.stats, f.processor.notes)) {
        if (warned.has(w)) continue;
        warned.add(w);
        say(`warning: ${w}`);
        if (o.json) console.log(JSON.stringify({ type: 'warning', file: f.path, message: w }));
      }
    });
  };
  let last = copyStats(total());
  let lastAt = started;
  const printSummary = (final: boolean): void => {
    showDrops();
    const now = total();
    const at = Date.now();
    const s = final ? now : statsDiff(now, last);
    if (o.json) {
      console.log(JSON.stringify({ type: final ? 'total' : 'summary', seconds: Math.round((at - (final ? started : lastAt)) / 1000), ...s }));
    } else {
      say(`${final ? 'in all' : `last ${Math.round((at - lastAt) / 1000)} s`}: ${summaryLine(s, at - (final ? started : lastAt))}`);
      if (final) {
        const notes = emptyNotes();
        for (const f of followers) mergeNotes(notes, f.processor.notes);
        for (const l of dropLines(s, notes)) say(l);
      }
    }
    last = copyStats(now);
    lastAt = at;
  };
  const dropTimer = setInterval(showDrops, DROP_CHECK_MS);
  dropTimer.unref();
  const summaryTimer = o.summaryIntervalMs ? setInterval(() => printSummary(false), o.summaryIntervalMs) : undefined;
  summaryTimer?.unref();
  const stopReports = (): void => {
    clearInterval(dropTimer);
    if (summaryTimer) clearInterval(summaryTimer);
    printSummary(true);
  };
  for (const f of followers) await f.start();
  console.error(`livestats ingest: following ${o.files.join(', ')} (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  for (const f of followers) await f.stop();
  const totals = followers.map((f) => `${f.path}`).join(', ');
  try {
    await o.aggregator.stop();
  } catch (err) {
    stopReports();
    const why = err instanceof StoreUnavailableError ? `the store refused the last write (${err.reason})` : `the last write failed (${(err as Error).message})`;
    console.error(`livestats ingest: stopped following ${totals}; ${why}: the lines read since the last commit will be read again on the next start`);
    return 1;
  }
  stopReports();
  const rejected = followers.reduce((n, f) => n + f.rejectedLines, 0);
  if (rejected > 0) console.error(`livestats ingest: ${rejected} lines were skipped because the store rejected their data`);
  console.error(`livestats ingest: stopped following ${totals}`);
  return 0;
}
