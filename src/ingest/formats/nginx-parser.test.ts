import { describe, expect, it } from 'vitest';
import { compileLogFormat, countOf } from './nginx-parser.js';
import { FormatError, parseLogFormatText } from './log-format.js';
import { createLineParser } from './presets.js';
import { newParsedLine, type ParsedLine } from './types.js';

function parse(format: string, line: string): ParsedLine | string {
  const p = createLineParser(format);
  const out = newParsedLine();
  return p.parse(line, out) ?? out;
}

const COMBINED_HOST =
  '203.0.113.9 - alice [10/Oct/2023:13:55:36 +0800] "GET /live/a.flv HTTP/1.1" 200 2326 "http://ref/" "Mozilla/5.0 (X11)" Live.Example.COM:8080';

describe('nginx log_format parser', () => {
  it('reads combined_host', () => {
    const r = parse('combined_host', COMBINED_HOST) as ParsedLine;
    expect(r.remoteAddr).toBe('203.0.113.9');
    expect(r.time).toBe(Date.UTC(2023, 9, 10, 5, 55, 36));
    expect(r.status).toBe('200');
    expect(r.bodyBytes).toBe(2326);
    expect(r.bytes).toBeNaN();
    expect(r.host).toBe('Live.Example.COM:8080');
    expect(r.request).toBe('GET /live/a.flv HTTP/1.1'); // read for its URI (app, stream, protocol of the traffic cube)
    expect(r.uri).toBe(''); // no $request_uri in this format
  });

  it('reads combined (no host): $request kept for absolute URLs', () => {
    const line = '10.0.0.1 - - [01/Jan/2024:00:00:00 +0000] "GET http://a.example.com/x?y=1 HTTP/1.1" 404 0 "-" "-"';
    const r = parse('combined', line) as ParsedLine;
    expect(r.request).toBe('GET http://a.example.com/x?y=1 HTTP/1.1');
    expect(r.status).toBe('404');
    expect(r.time).toBe(Date.UTC(2024, 0, 1));
  });

  it('takes every variable that matters, skips the others, "-" is empty', () => {
    const fmt = `log_format edge '$remote_addr|$http_x_forwarded_for|$time_iso8601|$msec|$status|$http_host|$server_name|' '$body_bytes_sent|$bytes_sent|$request_time|$upstream_addr|$sent_http_x|$request';`;
    const line = '198.51.100.7|-|2024-03-01T08:00:00+08:00|1709251200.250|503|h.example.com|srv|10|300|0.005|1.1.1.1:80, 2.2.2.2:80|-|GET / HTTP/1.1';
    const r = parse(fmt, line) as ParsedLine;
    expect(r.remoteAddr).toBe('198.51.100.7');
    expect(r.forwardedFor).toBe('');
    // $msec comes after $time_iso8601: the later one wins; both say the same second here.
    expect(r.time).toBe(Date.UTC(2024, 2, 1, 0, 0, 0) + 250);
    expect(r.status).toBe('503');
    expect(r.host).toBe('h.example.com'); // $http_host preferred over $server_name
    expect(r.bytes).toBe(300);
    expect(r.requestTime).toBe(0.005);
  });

  it('prefers $host over $http_host and $server_name', () => {
    const r = parse("'$server_name $http_host $host $status $time_local'", 's.com h.com x.com 200 01/Jan/2024:00:00:00 +0000') as ParsedLine;
    expect(r.host).toBe('x.com');
  });

  it('unquoted lists with ", " (upstream) do not shift later fields', () => {
    const r = parse("'$upstream_addr $status $host'", '1.1.1.1:80, 2.2.2.2:80, 3.3.3.3:80 302 a.com') as ParsedLine;
    expect(r.status).toBe('302');
    expect(r.host).toBe('a.com');
  });

  it('undoes nginx default escaping (\\x22) inside quoted values', () => {
    const line = '1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET /\\x22quoted\\x22 HTTP/1.1" 200 1 "-" "agent \\x22x\\x22" a.com';
    const r = parse('combined_host', line) as ParsedLine;
    expect(r.status).toBe('200');
    expect(r.host).toBe('a.com');
  });

  it('reads escape=json formats with \\" and \\u escapes', () => {
    const line = '{"time":"2024-01-01T00:00:00+00:00","remote_addr":"2001:db8::1","x_forwarded_for":"","host":"j\\u0061.com",' +
      '"request":"GET /\\"x\\" HTTP/1.1","status":200,"body_bytes_sent":5,"request_time":0.001,"http_referer":"","http_user_agent":"a\\\\\\"b"}';
    const r = parse('nginx_json', line) as ParsedLine;
    expect(r.remoteAddr).toBe('2001:db8::1');
    expect(r.host).toBe('ja.com');
    expect(r.status).toBe('200');
    expect(r.time).toBe(Date.UTC(2024, 0, 1));
  });

  it('rejects truncated, shifted and garbage lines as parse', () => {
    expect(parse('combined_host', COMBINED_HOST.slice(0, 60))).toBe('parse');
    expect(parse('combined_host', '')).toBe('parse');
    expect(parse('combined_host', '\u0000\u00ff\ufffd garbage "" [[[')).toBe('parse');
    expect(parse("'[$time_local] $status'", 'x[01/Jan/2024:00:00:00 +0000] 200')).toBe('parse');
    expect(parse("'$status $host'", '200 a.com extra')).not.toBe('parse'); // last variable takes the rest
  });

  it('flags a bad time without failing the parse', () => {
    const r = parse('combined_host', COMBINED_HOST.replace('10/Oct/2023', '99/Oct/2023')) as ParsedLine;
    expect(r.badTime).toBe(true);
  });

  it('parses nginx.conf syntax: log_format name, escape=, concatenated parts, ${var}', () => {
    const f = parseLogFormatText(`log_format main escape=none '\${remote_addr} ' "$status";`);
    expect(f.escape).toBe('none');
    expect(f.segments).toEqual([{ kind: 'var', name: 'remote_addr' }, { kind: 'literal', text: ' ' }, { kind: 'var', name: 'status' }]);
    expect(() => compileLogFormat(parseLogFormatText("'$remote_addr$status'"))).toThrow(FormatError);
    expect(() => parseLogFormatText("'$status")).toThrow(FormatError);
    expect(() => parseLogFormatText('escape=xml \'$status\'')).toThrow(FormatError);
    expect(() => createLineParser('nosuchpreset')).toThrow(/unknown format/);
    expect(() => createLineParser('just text')).toThrow(/no variables/);
  });
});

describe('byte counts', () => {
  it('countOf gives what Number gives, for digits and for every other text', () => {
    const texts = ['0', '7', '900', '350000', '007', '999999999999999', '9999999999999999', '12345678901234567890', '', '-', ' 12', '12 ',
      '1e3', '0x10', '-5', '+5', '1.5', '12a', 'Infinity', '\u0661\u0662'];
    let seed = 24;
    const next = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    for (let k = 0; k < 5_000; k++) texts.push(String(next() * 2 ** (next() % 24)).slice(0, 1 + (next() % 16)));
    for (const t of texts) expect([t, countOf(t)]).toEqual([t, Number(t)]);
  });
});
