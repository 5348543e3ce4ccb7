import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatWarnings } from '../ingest/formats/diagnose.js';
import { guessFormat } from '../ingest/formats/guess.js';
import { emptyNotes, noteClient, privateClientsWarning, sampleOf } from '../ingest/notes.js';
import { packGeo } from '../ingest/geo/names.js';
import { projectRoot } from '../paths.js';
import { formatHint, summaryLine, tooManyDropped } from './ingest-report.js';
import { INGEST_HELP } from './ingest.js';

const LINE = '36.1.2.3 - - [06/Dec/2026:12:00:00 +0000] "GET /live/x.flv HTTP/1.1" 200 123 "-" "curl"';

describe('ingest diagnostics', () => {
  it('names unknown variables with a guess, and formats without host, status or time', () => {
    expect(formatWarnings('combined_host')).toEqual([]);
    expect(formatWarnings('json')).toEqual([]);
    expect(formatWarnings("'$remote_addr $http_x_real_ip [$time_local] $status $host $upstream_http_x $arg_a $1'")).toEqual([]);
    const typo = formatWarnings("'$remote_addr [$time_local] $status $hots'");
    expect(typo[0]).toMatch(/^unknown variable \$hots in --format \(did you mean \$host\?\)/);
    expect(typo[1]).toMatch(/^the format logs no host/);
    expect(formatWarnings('combined')).toHaveLength(1);
    expect(formatWarnings('combined', { defaultDomain: true })).toEqual([]);
    expect(formatWarnings("'$host'")).toEqual([
      'the format logs no $status: every line will be dropped as bad_status',
      'the format logs no time ($time_local, $time_iso8601 or $msec): every line will be dropped as bad_time',
    ]);
  });

  it('finds the format that reads dropped lines, also with a garbage line among them', () => {
    expect(guessFormat([`${LINE} play.example.com "58.16.0.1, 10.0.0.1"`], 'combined_host')).toEqual({ fits: 'combined_host_xff' });
    expect(guessFormat([`${LINE} a.com`, `${LINE} b.com`, `${LINE} c.com`, `${LINE} d.com`, 'garbage'], 'combined')).toEqual({ fits: 'combined_host' });
    expect(guessFormat([LINE], 'combined_host')).toEqual({ readsWithoutHost: 'combined' });
    expect(guessFormat(['{"host":"a.com","status":200,"time":"2026-12-06T12:00:00Z"}'], 'combined')).toEqual({ fits: 'json' });
    expect(guessFormat(['nothing like a log line'], 'combined')).toEqual({});
  });

  it('hints only when most lines fail a format reason', () => {
    const notes = emptyNotes();
    notes.samples.parse = `${LINE} play.example.com`;
    expect(formatHint({ lines: 10, accepted: 0, dropped: { parse: 10 } }, notes, 'combined')).toMatch(/--format combined_host \(not combined\)/);
    expect(formatHint({ lines: 10, accepted: 9, dropped: { parse: 1 } }, notes, 'combined')).toBeUndefined();
    expect(formatHint({ lines: 10, accepted: 0, dropped: { too_old: 10 } }, notes, 'combined')).toBeUndefined();
  });

  it('fails a run over the share, caps aside', () => {
    expect(tooManyDropped({ lines: 10, accepted: 4, dropped: { parse: 6 } }, 50)).toBe(true);
    expect(tooManyDropped({ lines: 10, accepted: 5, dropped: { parse: 5 } }, 50)).toBe(false);
    expect(tooManyDropped({ lines: 10, accepted: 0, dropped: { domain_limit: 10 } }, 50)).toBe(false);
    expect(tooManyDropped({ lines: 10, accepted: 0, dropped: { too_old: 10 } }, 100)).toBe(false);
    expect(tooManyDropped({ lines: 0, accepted: 0, dropped: {} }, 0)).toBe(false);
  });

  it('shows a rate only over a second and 1,000 lines', () => {
    expect(summaryLine({ lines: 39, accepted: 39, dropped: {} }, 221)).toBe('39 lines, 39 accepted, 0 dropped in 0.2 s');
    expect(summaryLine({ lines: 1, accepted: 0, dropped: { parse: 1 } }, 1500)).toBe('1 line, 0 accepted, 1 dropped (parse 1) in 1.5 s');
    expect(summaryLine({ lines: 20_000, accepted: 20_000, dropped: {} }, 2000)).toBe('20,000 lines, 20,000 accepted, 0 dropped in 2.0 s, 10,000 lines/s');
  });

  it('warns about private clients only when none was located', () => {
    const n = emptyNotes();
    noteClient(n, '10.1.2.3', true, packGeo('OT', 'OTHER'));
    noteClient(n, 'fd00::1', undefined, packGeo('OT', 'OTHER'));
    expect(privateClientsWarning(n, 2)).toMatch(/^every counted client address was private \(e\.g\. 10\.1\.2\.3\)/);
    noteClient(n, '10.1.2.4', true, packGeo('GD', 'CTCC')); // located by --geo-overrides
    expect(privateClientsWarning(n, 3)).toBeUndefined();
    const p = emptyNotes();
    noteClient(p, '2001:db8::1', undefined, packGeo('OT', 'OTHER'));
    noteClient(p, '8.8.8.8', false, packGeo('OT', 'OTHER'));
    expect(p.located).toBe(true);
  });

  it('samples are UTF-8 and never carry control characters', () => {
    expect(sampleOf(Buffer.from('ä\u001b[31mred\u0007', 'utf8').toString('latin1'), true)).toBe('ä\\x1b[31mred\\x07');
    expect(sampleOf('x'.repeat(1000), false)).toHaveLength(300);
  });

  it('documents the options in ingest --help and docs/ingest.md', () => {
    const docs = readFileSync(join(projectRoot(), 'docs', 'ingest.md'), 'utf8');
    for (const flag of ['--domain', '--dry-run', '--max-dropped-percent', '--from-end', '--summary-interval', 'combined_host_xff']) {
      expect(INGEST_HELP, flag).toContain(flag);
      expect(docs, flag).toContain(flag);
    }
  });
});
