import { describe, expect, it } from 'vitest';
import { ClickHouseUrlError, parseClickHouseUrls, redact } from './url.js';

describe('parseClickHouseUrls', () => {
  it('splits credentials, origin and database', () => {
    expect(parseClickHouseUrls('http://u:p%40ss@127.0.0.1:8123/stats')).toEqual({
      database: 'stats', endpoints: [{ url: 'http://127.0.0.1:8123', username: 'u', password: 'p@ss' }],
    });
  });
  it('defaults the user to "default" and the database to livestats', () => {
    expect(parseClickHouseUrls('https://ch.example:8443')).toEqual({
      database: 'livestats', endpoints: [{ url: 'https://ch.example:8443', username: 'default', password: '' }],
    });
  });
  it('accepts a comma-separated list of servers of one database', () => {
    const t = parseClickHouseUrls('http://a:8123/db, http://b:8123/db,');
    expect(t.endpoints.map((e) => e.url)).toEqual(['http://a:8123', 'http://b:8123']);
  });
  it('rejects bad input with a clear message and never echoes the password', () => {
    const cases = ['', ' , ', 'ftp://x/db', 'http://x/db?x=1', 'http://x/a-b', 'http://x/a/b', 'http://a/x,http://b/y', 'nope'];
    for (const c of cases) expect(() => parseClickHouseUrls(c)).toThrow(ClickHouseUrlError);
    try {
      parseClickHouseUrls('http://u:secret@x/bad-db');
    } catch (err) {
      expect((err as Error).message).not.toContain('secret');
    }
    expect(redact('http://u:secret@h:1/db')).toBe('http://u:***@h:1/db');
  });
});
