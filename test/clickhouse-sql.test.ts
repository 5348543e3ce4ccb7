import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChEndpoint } from '../src/store/clickhouse/client.js';
import { quote, TsvBytes, type SqlValue } from '../src/store/clickhouse/sql.js';
import { parseClickHouseUrls, type Endpoint } from '../src/store/clickhouse/url.js';
import { startClickHouse, type ClickHouseServer } from './harness/clickhouse.js';
import { requireTools } from './helpers/system-tools.js';

requireTools('clickhouse-server');

/** quote() checked against the real server's literal parser: the bytes that arrive are the bytes sent. */
describe('quote() against clickhouse-server', () => {
  let ch: ClickHouseServer;
  beforeAll(async () => {
    ch = await startClickHouse();
  });
  afterAll(async () => {
    await ch?.destroy();
  });

  const bytesOf = (v: SqlValue): Buffer => (typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v as Uint8Array));
  const cases: Array<[string, SqlValue]> = [
    ['empty', ''],
    ['quotes', "it's a 'test' '' '"],
    ['backslashes', '\\ \\\\ \\\' \\n \\x00 \\'],
    ['NUL and controls', 'a\u0000b\u0001\n\r\t\u001b\u007f'],
    ['injection attempt', "x'); DROP DATABASE system; SELECT ('"],
    ['unicode', 'é中😀\u2028\uFEFF'],
    ['invalid UTF-8 bytes', Uint8Array.from([0xff, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x90, 0x28, 0xbc, 0x00, 0x27, 0x5c])],
    ['every byte value', Uint8Array.from({ length: 256 }, (_, i) => i)],
    ['long (120k chars, quotes and backslashes)', "'\\".repeat(30_000) + 'x'.repeat(60_000)],
  ];

  it.each(cases)('%s arrives byte-exact', async (_name, value) => {
    const want = bytesOf(value);
    const got = await ch.sql(`SELECT length(s), hex(MD5(s)) FROM (SELECT ${quote(value)} AS s) FORMAT TSV`);
    const md5 = createHash('md5').update(want).digest('hex').toUpperCase();
    expect(got).toBe(`${want.length}\t${md5}\n`);
  });

  // The write path's insert data (TsvBytes): each string case as a field of a TabSeparated row between two others, sent as the
  // body of an INSERT whose statement travels in the URL (ChEndpoint.exec with a body), read back byte-exact, the neighbours intact.
  it('carries every string case byte-exact in TsvBytes data sent as the request body', async () => {
    await ch.sql('CREATE TABLE IF NOT EXISTS default.tsv_bytes (n UInt32, s String, once String, tail String) ENGINE = Memory');
    const w = new TsvBytes(16);
    const strings = cases.filter((c): c is [string, string] => typeof c[1] === 'string');
    strings.forEach(([, v], i) => w.int(i).tab().str(v).tab().once(v).tab().str('end').end());
    const endpoint = new ChEndpoint(parseClickHouseUrls(ch.url('default')).endpoints[0] as Endpoint);
    try {
      await endpoint.exec('INSERT INTO default.tsv_bytes (n, s, once, tail) FORMAT TabSeparated', { body: w.take() });
    } finally {
      await endpoint.close();
    }
    const got = await ch.sql('SELECT n, length(s), hex(MD5(s)), s = once, tail FROM default.tsv_bytes ORDER BY n FORMAT TSV');
    expect(got).toBe(strings.map(([, v], i) => {
      const want = Buffer.from(v, 'utf8');
      return `${i}\t${want.length}\t${createHash('md5').update(want).digest('hex').toUpperCase()}\t1\tend\n`;
    }).join(''));
  });

  it('carries a 2 MB value with every byte value through INSERT ... VALUES (not bound by max_query_size)', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 256;
    await ch.sql('CREATE TABLE IF NOT EXISTS default.big (s String) ENGINE = Memory');
    await ch.sql(`INSERT INTO default.big (s) VALUES (${quote(big)})`);
    const got = await ch.sql('SELECT length(s), hex(MD5(s)) FROM default.big FORMAT TSV');
    expect(got).toBe(`${big.length}\t${createHash('md5').update(big).digest('hex').toUpperCase()}\n`);
  });

  it('keeps a quoted value a single literal inside a larger statement', async () => {
    const evil = "a' UNION ALL SELECT 'b";
    const got = await ch.sql(`SELECT count() FROM (SELECT ${quote(evil)} AS s) WHERE s = ${quote(evil)} FORMAT TSV`);
    expect(got).toBe('1\n');
  });
});
