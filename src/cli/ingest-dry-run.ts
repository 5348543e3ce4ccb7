import { StringDecoder } from 'node:string_decoder';
import { CHUNK_BYTES, openStream } from '../ingest/chunks.js';
import { clientAddress } from '../ingest/client-ip.js';
import type { ParsedLine } from '../ingest/formats/types.js';
import { ispOfCode, regionOfCode } from '../ingest/geo/names.js';
import { forEachLine } from '../ingest/lines.js';
import { geoResolver, createProcessor, type ProcessorSettings } from '../ingest/setup.js';
import { dropLines, formatHint, runWarnings, summaryLine, tooManyDropped } from './ingest-report.js';

/** Lines `ingest --dry-run` reads and shows. */
export const DRY_RUN_LINES = 10;

/**
 * The first `max` lines of the files (stdin '-', .gz), in order, read as they arrive: from a live
 * pipe they are shown as soon as `max` lines came, not after a full ingest chunk (8 MiB) or the end
 * of input. A line without a newline in CHUNK_BYTES x 4 is taken as one (overlong) line, as ingest does.
 */
export async function firstLines(files: readonly string[], max: number): Promise<string[]> {
  const out: string[] = [];
  const take = (text: string): void => forEachLine(text, (line) => {
    if (out.length < max) out.push(line);
  });
  for (const file of files) {
    if (out.length >= max) break;
    const stream = await openStream(file);
    const decoder = new StringDecoder('utf8');
    let pending = '';
    try {
      for await (const data of stream as AsyncIterable<Buffer>) {
        pending += decoder.write(data);
        const nl = pending.lastIndexOf('\n');
        if (nl >= 0) {
          take(pending.slice(0, nl + 1));
          pending = pending.slice(nl + 1);
        } else if (pending.length >= 4 * CHUNK_BYTES) {
          take(pending);
          pending = '';
        }
        if (out.length >= max) break;
      }
      if (out.length < max) take(pending + decoder.end());
    } finally {
      stream.destroy();
    }
  }
  return out;
}

const show = (v: string): string => (v === '' ? '-' : JSON.stringify(v));

function fields(p: Readonly<ParsedLine>, geo: (ip: string) => string): string {
  const time = p.badTime ? 'unreadable' : Number.isNaN(p.time) ? '-' : new Date(p.time).toISOString();
  const client = clientAddress(p.remoteAddr, p.forwardedFor);
  const bytes = !Number.isNaN(p.bytes) ? String(p.bytes) : !Number.isNaN(p.bodyBytes) ? String(p.bodyBytes) : '-';
  return [
    `host=${show(p.host)}`, `status=${show(p.status)}`, `time=${time}`, `remote_addr=${show(p.remoteAddr)}`,
    ...(p.forwardedFor !== '' ? [`x_forwarded_for=${show(p.forwardedFor)}`] : []),
    `client=${client === '' ? '-' : `${client} (${geo(client)})`}`, `request=${show(p.request)}`,
    ...(p.uri !== '' ? [`uri=${show(p.uri)}`] : []), `bytes=${bytes}`,
  ].join(' ');
}

/**
 * `ingest --dry-run`: parses the first lines with the chosen format through the real line processor and
 * shows, per line, whether it would be counted (or its drop reason) and what each field was read as.
 * Nothing is stored; the store is not opened. Returns the exit code (3 when most lines would be dropped).
 */
export async function dryRun(files: readonly string[], settings: ProcessorSettings, maxDroppedPercent: number, out: (s: string) => void): Promise<number> {
  const started = Date.now();
  const lines = await firstLines(files, DRY_RUN_LINES);
  const processor = createProcessor(settings, () => undefined);
  const resolver = geoResolver(settings.geoOverridesFile);
  const geo = (ip: string): string => {
    const g = resolver.lookup(ip);
    return `${regionOfCode(g)}/${ispOfCode(g)}`;
  };
  out(`dry run: the first ${lines.length} line(s) with --format ${settings.format}; nothing is stored`);
  lines.forEach((line, i) => {
    const reason = processor.process(line);
    out(`line ${i + 1}: ${reason === undefined ? 'counted' : `dropped as ${reason}`}: ${fields(processor.parsed, geo)}`);
  });
  const stats = processor.stats;
  const notes = processor.notes;
  out(summaryLine(stats, Date.now() - started));
  for (const l of dropLines(stats, notes)) out(l);
  const hint = formatHint(stats, notes, settings.format, lines);
  if (hint) out(`hint: ${hint}`);
  for (const w of runWarnings(stats, notes)) out(`warning: ${w}`);
  return tooManyDropped(stats, maxDroppedPercent) ? 3 : 0;
}
