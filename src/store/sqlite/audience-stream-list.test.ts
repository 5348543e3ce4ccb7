import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { AUDIENCE_STREAMS, audienceDdl } from './audience-layout.js';
import { readPlayInfoColumns } from './audience-reads.js';
import { domainStreamLists } from './audience-stream-list.js';
import { allocateSeries, seriesLimit } from './series-ids.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A new file with the audience tables: a write connection adding stream series as ingest does (allocateSeries), and a read connection. */
function streamsFile(): { writer: Database.Database; reader: Database.Database; add: (tuple: string[]) => number } {
  const dir = mkdtempSync(join(tmpdir(), 'livestats-streams-'));
  dirs.push(dir);
  const file = join(dir, 'livestats.db');
  const writer = new Database(file);
  writer.pragma('journal_mode = WAL');
  writer.exec(audienceDdl());
  const add = (tuple: string[]): number => writer.transaction(() => allocateSeries(writer, AUDIENCE_STREAMS, tuple, seriesLimit(AUDIENCE_STREAMS)))() as number;
  const reader = new Database(file, { readonly: true, fileMustExist: true });
  return { writer, reader, add };
}

/**
 * A read connection's kept stream lists (what play-info reads per domain) against a write connection
 * on the same file adding series as ingest does (allocateSeries): a list is used again only while no
 * series was added, and then it is the very same list; a stream added to any domain, or a new domain,
 * is in the next answer.
 */
it('keeps a domain\'s stream list until a series is added, then reads it again', () => {
  const { writer, reader, add } = streamsFile();
  try {
    const a1 = add(['p1', 'a.example.com', 'live', 's1']);
    const b1 = add(['p1', 'b.example.com', 'live', 's1']);
    add(['p2', 'a.example.com', 'live', 'other-project']);
    const first = domainStreamLists(reader, 'p1', ['a.example.com', 'b.example.com', 'c.example.com']);
    expect(first).toEqual([[[a1, 'live', 's1']], [[b1, 'live', 's1']], []]);
    // Nothing added: the same lists (kept, not read again).
    const again = domainStreamLists(reader, 'p1', ['b.example.com', 'a.example.com']);
    expect(again[0]).toBe(first[1]);
    expect(again[1]).toBe(first[0]);
    // A stream of another domain added: every list is read again (and is still right).
    const b2 = add(['p1', 'b.example.com', 'app2', 's2']);
    const second = domainStreamLists(reader, 'p1', ['a.example.com', 'b.example.com']);
    expect(second[0]).not.toBe(first[0]);
    expect(second).toEqual([[[a1, 'live', 's1']], [[b2, 'app2', 's2'], [b1, 'live', 's1']]]);
    // A stream of a domain that had none, and of a new domain.
    const c1 = add(['p1', 'c.example.com', 'live', 's9']);
    const d1 = add(['p1', 'd.example.com', 'live', 's1']);
    expect(domainStreamLists(reader, 'p1', ['c.example.com', 'd.example.com'])).toEqual([[[c1, 'live', 's9']], [[d1, 'live', 's1']]]);
    // The other project's domain of the same name: its own list.
    expect(domainStreamLists(reader, 'p2', ['a.example.com'])[0]?.map((s) => s[2])).toEqual(['other-project']);
  } finally {
    reader.close();
    writer.close();
  }
});

/**
 * The play-info columns (readPlayInfoColumns) made from the kept lists: kept with their answer order
 * while the lists are the same ones (no sort per answer), made again with the new stream once one is added.
 */
it('keeps the play-info stream columns and their order while the lists are kept, and makes them again when a stream is added', () => {
  const { writer, reader, add } = streamsFile();
  try {
    add(['p1', 'b.example.com', 'live', 's2']);
    add(['p1', 'a.example.com', 'live', 'zz']);
    add(['p1', 'a.example.com', 'app', 'aa']);
    const f = { project: 'p1', domains: ['b.example.com', 'a.example.com'], minute: 0 };
    const first = readPlayInfoColumns(reader, f);
    const names = (c: typeof first): string[] => [...(c.order ?? [])].map((i) => `${c.domains[i]}/${c.apps[i]}/${c.streams[i]}`);
    expect(names(first)).toEqual(['a.example.com/app/aa', 'a.example.com/live/zz', 'b.example.com/live/s2']);
    const again = readPlayInfoColumns(reader, f);
    expect(again.order).toBe(first.order);
    expect(again.streams).toBe(first.streams);
    // Other domains asked: their own columns.
    expect(names(readPlayInfoColumns(reader, { ...f, domains: ['b.example.com'] }))).toEqual(['b.example.com/live/s2']);
    add(['p1', 'a.example.com', 'live', 'mm']);
    const second = readPlayInfoColumns(reader, f);
    expect(second.order).not.toBe(first.order);
    expect(names(second)).toEqual(['a.example.com/app/aa', 'a.example.com/live/mm', 'a.example.com/live/zz', 'b.example.com/live/s2']);
  } finally {
    reader.close();
    writer.close();
  }
});
