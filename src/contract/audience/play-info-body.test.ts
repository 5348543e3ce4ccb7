import { expect, it } from 'vitest';
import { entriesByDomain, playInfoLayout, playInfoOrder, renderDomainEntries, renderPlayInfo, renderPlayInfoEntries, renderPlayInfoTexts, type PlayInfoColumns } from './play-info-body.js';
import { shapePlayInfo, type PlayInfoCell } from './play-info.js';
import { AUDIENCE_PROTOCOLS } from './values.js';

const P = AUDIENCE_PROTOCOLS.length;
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The cells the columns stand for, as a store's playInfo would list them. */
function cellsOf(c: PlayInfoColumns): PlayInfoCell[] {
  const cells: PlayInfoCell[] = [];
  c.streams.forEach((stream, i) => {
    AUDIENCE_PROTOCOLS.forEach((protocol, p) => {
      cells.push({ domain: c.domains[i] as string, app: c.apps[i] as string, stream, protocol, bytes: c.bytes[i * P + p] as number, online: c.online[i * P + p] as number });
    });
  });
  return cells;
}

/**
 * Columns of the tuples with made-up viewers and bytes per protocol (the third protocol's bytes `big` more), every
 * cell of tuple `quiet` left empty (no viewers, no bytes: not listed).
 */
function columnsOf(tuples: ReadonlyArray<[string, string, string]>, quiet: number, big: number): PlayInfoColumns {
  const online = new Float64Array(tuples.length * P);
  const bytes = new Float64Array(tuples.length * P);
  tuples.forEach((_, i) => {
    if (i === quiet) return;
    for (let p = 0; p < P; p++) {
      online[i * P + p] = (i * 7 + p) % 3;
      bytes[i * P + p] = ((i + p) % 4) * 1_000_003 + (p === 2 ? big : 0);
    }
  });
  return { domains: tuples.map((t) => t[0]), apps: tuples.map((t) => t[1]), streams: tuples.map((t) => t[2]), online, bytes };
}

/**
 * The same bytes rendered with the columns' order and layout (playInfoLayout), as a reader keeping them renders: its texts
 * made by the first answer, copied by the next, one of other viewers and bytes (every listed cell's values changed, some
 * cells emptied and others filled) and one listing nothing.
 */
function expectLaidOut(minute: number, c: PlayInfoColumns, expected: string): void {
  const order = playInfoOrder(c);
  const layout = playInfoLayout(c, order);
  const laid = { ...c, order, layout };
  expect(Buffer.from(renderPlayInfo(minute, laid)).toString('utf8')).toBe(expected);
  const made = layout.texts.filter((t) => t !== undefined).length;
  expect(made).toBeGreaterThan(0);
  expect(Buffer.from(renderPlayInfo(minute, laid)).toString('utf8')).toBe(expected);
  const online = c.online.map((v, k) => (k % 3 === 0 ? 0 : v + 1));
  const bytes = c.bytes.map((v, k) => (k % 3 === 0 ? 0 : v * 2 + 5));
  const other = { ...c, online, bytes };
  expect(Buffer.from(renderPlayInfo(minute, { ...other, order, layout })).toString('utf8')).toBe(JSON.stringify(shapePlayInfo({ domains: [], minute }, cellsOf(other))));
  const none = { ...c, online: new Float64Array(c.online.length), bytes: new Float64Array(c.bytes.length), order, layout };
  expect(Buffer.from(renderPlayInfo(minute, none)).toString('utf8')).toBe(JSON.stringify(shapePlayInfo({ domains: [], minute }, cellsOf(none))));
}

it('renders the bytes of JSON.stringify(shapePlayInfo(...)): order, names needing escapes, empty cells and nameless streams left out', () => {
  const tuples: Array<[string, string, string]> = [
    ['b.com', 'live', 's1'], ['a.com', 'zz', 's1'], ['a.com', 'aa', 's1'], ['a.com', 'live', 'say "hi"\\'], ['a.com', 'live', ''],
    ['a.com', 'live', 'caf\u00e9-\u4e2d'], ['a.com', 'live', 'lone\ud800'], ['a.com', 'live', 'tab\there'], ['a.com', 'live', 'S1'], ['a.com', 'x', 'quiet'],
  ];
  const c = columnsOf(tuples, 9, 2 ** 52);
  const minute = Date.UTC(2028, 2, 1, 11, 59);
  const expected = JSON.stringify(shapePlayInfo({ domains: [], minute }, cellsOf(c)));
  expect(expected).toContain('"protocol":"rtmp"');
  expect(Buffer.from(renderPlayInfo(minute, c)).toString('utf8')).toBe(expected);
  expectLaidOut(minute, c, expected);
  const none: PlayInfoColumns = { domains: [], apps: [], streams: [], online: new Float64Array(0), bytes: new Float64Array(0) };
  expect(Buffer.from(renderPlayInfo(minute, none)).toString()).toBe('{"time":"2028-03-01T11:59:00Z","data_list":[]}');
});

it('renders long names and counts past 2^31 like JSON.stringify (the fixed texts go as 32-bit words)', () => {
  const long = `${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(60)}.example.com`;
  const tuples: Array<[string, string, string]> = [[long, 'live', 's'.repeat(300)], [long, 'live', 'a'], ['b.com', 'live', 'ab'], ['b.com', 'live', 'abc']];
  const online = new Float64Array(tuples.length * P);
  const bytes = new Float64Array(tuples.length * P);
  const big = [0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 40 + 3, 2 ** 53 - 1, 9, 99, 999, 9999, 99999, 999999];
  for (let k = 0; k < online.length; k++) {
    online[k] = big[k % big.length] as number;
    bytes[k] = (big[(k * 5) % big.length] as number) * 7;
  }
  const c: PlayInfoColumns = { domains: tuples.map((t) => t[0]), apps: tuples.map((t) => t[1]), streams: tuples.map((t) => t[2]), online, bytes };
  const minute = Date.UTC(2028, 2, 1, 0, 0);
  expect(Buffer.from(renderPlayInfo(minute, c)).toString('utf8')).toBe(JSON.stringify(shapePlayInfo({ domains: [], minute }, cellsOf(c))));
  expectLaidOut(minute, c, JSON.stringify(shapePlayInfo({ domains: [], minute }, cellsOf(c))));
});

it('renders entries kept in the answer order per domain (renderPlayInfoEntries) as the bytes of JSON.stringify(shapePlayInfo(...))', () => {
  const tuples: Array<[string, string, string]> = [
    ['b.com', 'live', 's1'], ['a.com', 'zz', 's1'], ['a.com', 'aa', 's1'], ['a.com', 'live', 'say "hi"\\'], ['a.com', 'live', ''],
    ['a.com', 'live', 'caf\u00e9-\u4e2d'], ['a.com', 'live', 'S1'], ['a.com', 'x', 'quiet'], ['c.com', 'live', 'only'],
  ];
  const c = columnsOf(tuples, 7, 2 ** 40);
  const minute = Date.UTC(2028, 2, 1, 11, 59);
  const expected = JSON.stringify(shapePlayInfo({ domains: [], minute }, cellsOf(c)));
  // A store's rows: every cell (empty ones too) plus one of a protocol no stream shape has, in comparePlayInfo's order.
  const rows = [...cellsOf(c), { domain: 'a.com', app: 'live', stream: 's1', protocol: 'rtsp', bytes: 5, online: 5 }];
  rows.sort((a, b) => byText(a.domain, b.domain) || byText(a.stream, b.stream) || byText(a.protocol, b.protocol) || byText(a.app, b.app));
  const parts = entriesByDomain(rows);
  expect(parts.map((d) => d.domain)).toEqual(['a.com', 'b.com', 'c.com']);
  expect(Buffer.from(renderPlayInfoEntries(minute, parts)).toString('utf8')).toBe(expected);
  expect(Buffer.from(renderPlayInfo(minute, c)).toString('utf8')).toBe(expected);
  expect(Buffer.from(renderPlayInfoEntries(minute, [])).toString()).toBe('{"time":"2028-03-01T11:59:00Z","data_list":[]}');
  // Each domain's text made once (renderDomainEntries) and the answer copied from the texts: the same bytes, also with
  // a domain listing nothing (an empty text: no comma for it) first, between and last.
  const quiet = (domain: string): (typeof parts)[number] => ({ domain, apps: ['live'], streams: ['s'], protocols: Uint8Array.of(0), bytes: Float64Array.of(0), online: Float64Array.of(0) });
  expect(renderDomainEntries(quiet('q.com')).length).toBe(0);
  const texts = [quiet('0.com'), ...parts.slice(0, 2), quiet('b1.com'), ...parts.slice(2), quiet('d.com')].map(renderDomainEntries);
  expect(Buffer.from(renderPlayInfoTexts(minute, texts)).toString('utf8')).toBe(expected);
  expect(Buffer.from(renderPlayInfoTexts(minute, parts.map(renderDomainEntries))).toString('utf8')).toBe(expected);
  expect(Buffer.from(renderPlayInfoTexts(minute, [])).toString()).toBe('{"time":"2028-03-01T11:59:00Z","data_list":[]}');
  expect(Buffer.from(renderPlayInfoTexts(minute, [renderDomainEntries(quiet('a.com'))])).toString()).toBe('{"time":"2028-03-01T11:59:00Z","data_list":[]}');
});
