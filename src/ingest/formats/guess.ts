import type { DropReason } from './types.js';
import { createProcessor } from '../setup.js';
import { PRESETS } from './presets.js';

/** Reasons that say the format does not fit the line (the others are about the line's time, size or caps). */
export const FORMAT_REASONS: ReadonlySet<DropReason> = new Set(['parse', 'bad_status', 'bad_time', 'bad_domain']);

/** Formats tried, in this order, on lines the chosen --format dropped. */
const CANDIDATES = [...Object.keys(PRESETS), 'json'];

export interface FormatGuess {
  /** A format that counts at least 4 in 5 of the given lines (time and caps aside). */
  fits?: string;
  /** A format that reads at least 4 in 5 of the lines but finds no host in them (the log has none: add $host, or --domain). */
  readsWithoutHost?: string;
}

/**
 * Tries the presets and JSON on `lines` (lines the chosen format dropped): which one would count them.
 * Runs each candidate through a real line processor (nothing is stored).
 */
export function guessFormat(lines: readonly string[], current: string): FormatGuess {
  const guess: FormatGuess = {};
  if (lines.length === 0) return guess;
  for (const format of CANDIDATES) {
    if (format === current.trim()) continue;
    const p = createProcessor({ format, retentionDays: 100_000 }, () => undefined);
    let read = 0;
    let withoutHost = 0;
    for (const line of lines) {
      const r = p.process(line);
      if (r === undefined || !FORMAT_REASONS.has(r)) read++;
      else if (r === 'bad_domain') withoutHost++;
    }
    // A stray garbage line among the samples does not hide the format that reads the rest.
    if (read * 5 >= lines.length * 4) return { fits: format };
    if ((read + withoutHost) * 5 >= lines.length * 4) guess.readsWithoutHost ??= format;
  }
  return guess;
}
