import fc from 'fast-check';
import { compileLogFormat } from '../../../src/ingest/formats/nginx-parser.js';
import { FormatError, parseLogFormatText } from '../../../src/ingest/formats/log-format.js';
import { createLineParser } from '../../../src/ingest/formats/presets.js';
import type { LineParser } from '../../../src/ingest/formats/types.js';
import { expectedReason, expectedTime, PRESET_SEGS, recordArb, renderLine, type LogRecord, type Seg } from '../model/access.js';
import type { EscapeMode } from '../model/escape.js';
import { formatArb, type GeneratedFormat } from '../model/formats.js';
import { applyMutations, mutationsArb, withMutations, type Variant } from '../mutate.js';
import { dropped, wrong, type FuzzTarget, type Verdict } from '../target.js';
import { LineBench, LINE_REASONS, type ExpectedCell } from './line-check.js';

/** In escape=none a free-text value with a quote is ambiguous for nginx itself: the model leaves quotes out there. */
function forMode(r: LogRecord, mode: EscapeMode): LogRecord {
  if (mode !== 'none') return r;
  // eslint-disable-next-line no-control-regex -- control characters are what nginx would write raw
  const clean = (s: string): string => s.replace(/["\u0000-\u001f]/g, '_');
  return { ...r, referer: clean(r.referer), ua: clean(r.ua) };
}

function expectation(segs: readonly Seg[], r: LogRecord): { reason: string | undefined; cell?: ExpectedCell } {
  const reason = expectedReason(segs, r);
  if (reason !== undefined) return { reason };
  return { reason, cell: { domain: r.host.domain, time: expectedTime(segs, r), code: r.status } };
}

/** One preset (combined, combined_host, nginx_json): generated lines must count exactly; mutations must be decided. */
export function presetTarget(preset: keyof typeof PRESET_SEGS): FuzzTarget<Variant<LogRecord>> {
  const { segs, mode } = PRESET_SEGS[preset];
  let bench: LineBench | undefined;
  return {
    name: `preset:${preset}`,
    title: `--format ${preset} lines (parser + full line processor, UTF-8 and latin1 input)`,
    arbitrary: withMutations(recordArb, (r) => renderLine(segs, forMode(r, mode), mode)),
    reasons: LINE_REASONS,
    limitMs: 1000,
    prepare() {
      bench ??= new LineBench(createLineParser(preset));
    },
    run(input) {
      bench ??= new LineBench(createLineParser(preset));
      if (input.mutated) return bench.judge(input.text);
      const r = forMode(input.value, mode);
      return bench.judge(renderLine(segs, r, mode), expectation(segs, r));
    },
  };
}

interface FormatInput {
  format: GeneratedFormat;
  record: LogRecord;
  /** Mutation of the nginx.conf text (then only a decision is required), or null. */
  confEdits: Parameters<typeof applyMutations>[1] | null;
  /** Mutation of the line, or null. */
  lineEdits: Parameters<typeof applyMutations>[1] | null;
}

const FORMAT_REASONS = [...LINE_REASONS, 'format_error'];

/** Any log_format as written in nginx.conf, compiled, then lines of it. */
export function logFormatTarget(): FuzzTarget<FormatInput> {
  const cache = new Map<string, LineBench | FormatError>();
  const benchFor = (conf: string): LineBench | FormatError => {
    let b = cache.get(conf);
    if (b === undefined) {
      try {
        b = new LineBench(compileLogFormat(parseLogFormatText(conf), 'log_format'));
      } catch (err) {
        if (!(err instanceof FormatError)) throw err;
        b = err;
      }
      if (cache.size > 2000) cache.clear();
      cache.set(conf, b);
    }
    return b;
  };
  return {
    name: 'log_format',
    title: 'compiled nginx log_format strings (directive, escape= modes, multi-part quoting) and their lines',
    arbitrary: fc.record({
      format: formatArb,
      record: recordArb,
      confEdits: fc.option(mutationsArb, { freq: 5 }),
      lineEdits: fc.option(mutationsArb, { freq: 2 }),
    }),
    reasons: FORMAT_REASONS,
    limitMs: 1000,
    prepare() {
      benchFor("'$status $host'");
    },
    run({ format, record, confEdits, lineEdits }): Verdict {
      const r = forMode(record, format.mode);
      const conf = confEdits ? applyMutations(format.conf, confEdits) : format.conf;
      const bench = benchFor(conf);
      if (bench instanceof FormatError) return confEdits ? dropped('format_error') : wrong(`valid format refused: ${bench.message}`);
      const line = renderLine(format.segs, r, format.mode);
      if (confEdits || lineEdits) return bench.judge(lineEdits ? applyMutations(line, lineEdits) : line);
      return bench.judge(line, expectation(format.segs, r));
    },
  };
}

export type { LineParser };
