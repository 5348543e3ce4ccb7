import { NO_REQUEST_TIME_WARNING } from '../ingest/audience/notes.js';
import { guessFormat, FORMAT_REASONS } from '../ingest/formats/guess.js';
import type { DropReason } from '../ingest/formats/types.js';
import { privateClientsWarning, type IngestNotes } from '../ingest/notes.js';
import type { IngestStats } from '../ingest/processor.js';

/**
 * What `livestats ingest` tells the operator about dropped lines: counts by reason with one sample
 * line each, a hint naming the format that would read them, and whether the run exits non-zero.
 */

/** Drops for these reasons are the operator's own caps, not a sign of a wrong format: they never fail a run. */
const CAP_REASONS: ReadonlySet<DropReason> = new Set(['domain_limit', 'stream_limit', 'id_space_full']);

/** Default of --max-dropped-percent: a run dropping more than this share of its lines exits 3. */
export const DEFAULT_MAX_DROPPED_PERCENT = 50;
/** Exit code of a run that dropped more than --max-dropped-percent of its lines (what it counted is stored). */
export const EXIT_TOO_MANY_DROPPED = 3;

const plural = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** Lines dropped for reasons that count against --max-dropped-percent (all but the caps). */
export function droppedForInput(s: IngestStats): number {
  let n = 0;
  for (const [k, v] of Object.entries(s.dropped) as Array<[DropReason, number]>) if (!CAP_REASONS.has(k)) n += v;
  return n;
}

/** True when the run dropped more than `maxPercent` of its lines (caps aside). */
export function tooManyDropped(s: IngestStats, maxPercent: number): boolean {
  return s.lines > 0 && droppedForInput(s) * 100 > maxPercent * s.lines;
}

/** "39 lines, 0 accepted, 39 dropped (bad_domain 39) in 0.1 s": the rate only when it means something. */
export function summaryLine(s: IngestStats, ms: number): string {
  const drops = Object.entries(s.dropped).map(([k, n]) => `${k} ${n}`).join(', ');
  const secs = ms / 1000;
  // A rate over less than a second (or a few lines) is noise: "176 lines/s" for 39 lines.
  const rate = secs >= 1 && s.lines >= 1000 ? `, ${Math.round(s.lines / secs).toLocaleString('en-US')} lines/s` : '';
  return `${plural(s.lines, 'line')}, ${s.accepted.toLocaleString('en-US')} accepted, ${(s.lines - s.accepted).toLocaleString('en-US')} dropped` +
    `${drops ? ` (${drops})` : ''} in ${secs.toFixed(1)} s${rate}`;
}

/** One line per drop reason with its count and the first line dropped for it. */
export function dropLines(s: IngestStats, notes: IngestNotes): string[] {
  return (Object.entries(s.dropped) as Array<[DropReason, number]>).map(([reason, n]) => {
    const sample = notes.samples[reason];
    return `dropped ${plural(n, 'line')} as ${reason}${sample !== undefined ? `, e.g.: ${sample}` : ''}`;
  });
}

/** What to change when a format reason dropped at least half the lines: the format that reads them, or what the log lacks. */
export function formatHint(s: IngestStats, notes: IngestNotes, format: string, extraLines: readonly string[] = []): string | undefined {
  const failing = (Object.keys(s.dropped) as DropReason[]).filter((r) => FORMAT_REASONS.has(r));
  // A few bad lines among good ones are garbage, not a wrong format: the hint is for when most lines fail.
  const failed = failing.reduce((n, r) => n + (s.dropped[r] ?? 0), 0);
  if (failing.length === 0 || failed * 2 < s.lines) return undefined;
  const lines = [...failing.map((r) => notes.samples[r]).filter((l): l is string => l !== undefined), ...extraLines];
  const guess = guessFormat(lines, format);
  if (guess.fits !== undefined) {
    return `these lines are read by --format ${guess.fits} (not ${shortFormat(format)}): run again with --format ${guess.fits}` +
      (guess.fits === 'combined_host_xff' ? ' (combined_host with "$http_x_forwarded_for" appended)' : '');
  }
  if (guess.readsWithoutHost !== undefined || (failing.length === 1 && failing[0] === 'bad_domain')) {
    const f = guess.readsWithoutHost ?? shortFormat(format);
    return `these lines log no host (--format ${f} reads them, but nothing names the domain): add $host to nginx's log_format ` +
      '(docs/ingest.md, "nginx configuration"), or, if this server serves one domain, run again with ' +
      `--format ${f} --domain NAME`;
  }
  return 'no known format reads these lines: give nginx\'s log_format as written in nginx.conf, e.g. ' +
    '--format "log_format main \'$remote_addr ... $host\';" (try it first with --dry-run)';
}

function shortFormat(format: string): string {
  const f = format.trim();
  return /^[A-Za-z_]+$/.test(f) ? f : 'the log_format given';
}

/** Warnings about the counted lines (not the dropped ones): all clients private, FLV lines without $request_time. */
export function runWarnings(s: IngestStats, notes: IngestNotes): string[] {
  const w = privateClientsWarning(notes, s.accepted);
  return [...(w ? [w] : []), ...((s.audience?.no_request_time ?? 0) > 0 ? [NO_REQUEST_TIME_WARNING] : [])];
}
