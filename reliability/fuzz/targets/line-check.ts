import type { CellBatch } from '../../../src/ingest/cells.js';
import { geoResolver } from '../../../src/ingest/setup.js';
import { LineProcessor } from '../../../src/ingest/processor.js';
import { DROP_REASONS, newParsedLine, type LineParser } from '../../../src/ingest/formats/types.js';
import { NOW, RETENTION_DAYS } from '../model/values.js';
import { accepted, dropped, wrong, type Verdict } from '../target.js';

/** What a counted line must have become: one cell of this domain, minute and code. */
export interface ExpectedCell {
  domain: string;
  time: number;
  code: number;
}

/**
 * Runs lines through a parser and the full line processor (status, time, domain, geo, cells),
 * both as the HTTP intake decodes input (UTF-8) and as files are read (latin1 bytes). The
 * parser is also called directly: the processor turns a parser exception into a 'parse' drop,
 * which would hide a crash.
 */
export class LineBench {
  private readonly utf8: LineProcessor;
  private readonly latin1: LineProcessor;
  private readonly scratch = newParsedLine();
  private cells: CellBatch[] = [];

  constructor(readonly parser: LineParser) {
    const mk = (latin1Input: boolean): LineProcessor => new LineProcessor({
      parser, geo: geoResolver(), retentionDays: RETENTION_DAYS, now: () => NOW, latin1Input, sink: (c) => this.cells.push(c),
    });
    this.utf8 = mk(false);
    this.latin1 = mk(true);
  }

  /** Judges one line; with `expect`, the outcome must be exactly that (undefined reason = counted as `cell`). */
  judge(line: string, expect?: { reason: string | undefined; cell?: ExpectedCell }): Verdict {
    this.parser.parse(line, this.scratch);
    // What a file reader hands the processor: the bytes, decoded the processor's way.
    const bytes = this.latin1.text(Buffer.from(line, 'utf8'));
    const reasons: Array<string | undefined> = [];
    for (const [proc, text, how] of [[this.utf8, line, 'utf8'], [this.latin1, bytes, 'bytes']] as const) {
      this.cells = [];
      const reason = proc.process(text);
      proc.flushCells();
      if (reason !== undefined && !DROP_REASONS.includes(reason)) return dropped(String(reason));
      if (expect) {
        if (reason !== expect.reason) return wrong(`${how}: expected ${expect.reason ?? 'counted'}, got ${reason ?? 'counted'}`);
        if (reason === undefined && expect.cell) {
          const bad = cellMismatch(this.cells, expect.cell);
          if (bad) return wrong(`${how}: ${bad}`);
        }
      }
      reasons.push(reason);
    }
    const [u, l] = reasons;
    // eslint-disable-next-line no-control-regex -- ASCII test
    if (!expect && u !== l && !/[^\x00-\x7f]/.test(line)) return wrong(`ASCII line decided differently: utf8 ${u ?? 'counted'}, latin1 ${l ?? 'counted'}`);
    return u === undefined ? accepted : dropped(u);
  }
}

function cellMismatch(batches: readonly CellBatch[], e: ExpectedCell): string | undefined {
  const b = batches[0];
  if (batches.length !== 1 || !b || b.slotDomains.length !== 1) return `expected one cell, got ${batches.length} batches`;
  const minute = Math.floor(e.time / 60_000) * 60_000;
  if (b.slotDomains[0] !== e.domain) return `domain ${JSON.stringify(b.slotDomains[0])}, expected ${JSON.stringify(e.domain)}`;
  if (b.slotMinutes[0] !== minute) return `minute ${b.slotMinutes[0]}, expected ${minute}`;
  const code = (b.keys[0] ?? -1) & 1023;
  if (b.keys.length !== 1 || code !== e.code || b.counts[0] !== 1) return `cell code ${code} x${b.counts[0]}, expected ${e.code} x1`;
  return undefined;
}

export const LINE_REASONS: readonly string[] = DROP_REASONS;
