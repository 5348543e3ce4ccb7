import { describe, expect, it } from 'vitest';
import { HOUR_STAMPS, parseStamps, stampKey, stampsSql } from './stamp-reads.js';

describe('parseStamps (StampReads\' TabSeparated rows)', () => {
  it('undoes the TabSeparated escapes of the names and keeps the 64-bit sums digit for digit', () => {
    const out = parseStamps('p1\ta.example\t7\t5\t18446744073709551615\np\\t2\tb\\\\c\\nd\\\'e\t8\t1\t0\n');
    expect(out.get(stampKey('p1', 'a.example', 7))).toBe('5:18446744073709551615');
    expect(out.get(stampKey('p\t2', 'b\\c\nd\'e', 8))).toBe('1:0');
    expect(out.size).toBe(2);
    expect(parseStamps('').size).toBe(0);
  });

  it('reads the day stamps\' four sums (migration 017: rows, tags, user_rows, user_tags) as one stamp, and only with all four', () => {
    const out = parseStamps('p1\ta.example\t20000\t5\t18446744073709551615\t0\t7\n', 4);
    expect(out.get(stampKey('p1', 'a.example', 20000))).toBe('5:18446744073709551615:0:7');
    expect(() => parseStamps('p1\ta.example\t20000\t5\t1\n', 4)).toThrow(/not understood/);
    expect(() => parseStamps('p1\ta.example\t20000\t5\t1\t2\t3\n')).toThrow(/not understood/);
  });

  it('fails the read on a row it does not understand: a misread stamp could make a block look current', () => {
    expect(() => parseStamps('p1\ta.example\t7\t5\n')).toThrow(/not understood/);
    expect(() => parseStamps('p1\ta.example\t7\t5\t\\N\n')).toThrow(/not understood/);
    expect(() => parseStamps('p1\ta.example\t-1\t5\t1\n')).toThrow(/not understood/);
    expect(() => parseStamps('Code: 159, e.displayText() = DB::Exception: Timeout exceeded\n')).toThrow(/not understood/);
  });
});

describe('stampsSql (the stamps read)', () => {
  it('compares one project and one key with =, not an IN list (18.16 builds a set for IN)', () => {
    const sql = stampsSql('db.http_counts_stamps', 'domain', HOUR_STAMPS, ['p1'], ["a'.example"], 10, 12);
    expect(sql).toContain("project = 'p1' AND domain = 'a\\'.example'");
    expect(sql).not.toMatch(/\bIN\b/);
  });

  it('keeps an IN list for several projects or keys', () => {
    const sql = stampsSql('db.http_counts_stamps', 'task_id', HOUR_STAMPS, ['p1', 'p2'], ['t1', 't2'], 10, 12);
    expect(sql).toContain("project IN ('p1', 'p2') AND task_id IN ('t1', 't2')");
    expect(stampsSql('t', 'domain', HOUR_STAMPS, ['p1'], ['a', 'b'], 1, 2)).toContain("project = 'p1' AND domain IN ('a', 'b')");
  });
});
