import { describe, expect, it } from 'vitest';
import { jsonLinesParser, jsonTime, parseFieldOptions } from './json-lines.js';
import { FormatError } from './log-format.js';
import { newParsedLine } from './types.js';

describe('JSON lines', () => {
  it('finds default field names (Vector / Fluent Bit / nginx)', () => {
    const out = newParsedLine();
    expect(jsonLinesParser().parse('{"remote_addr":"1.2.3.4","host":"A.com","status":200,"timestamp":"2024-01-01T00:00:00Z"}', out)).toBeUndefined();
    expect(out).toMatchObject({ remoteAddr: '1.2.3.4', host: 'A.com', status: '200', time: Date.UTC(2024, 0, 1) });
  });
  it('follows --field mappings with dotted paths and epoch times', () => {
    const p = jsonLinesParser(parseFieldOptions(['ip=client.ip', 'time=ts', 'domain=req.host', 'status=res.code']));
    const out = newParsedLine();
    p.parse('{"client":{"ip":"2001:db8::2"},"ts":1704067200123,"req":{"host":"b.com"},"res":{"code":"404"}}', out);
    expect(out).toMatchObject({ remoteAddr: '2001:db8::2', host: 'b.com', status: '404', time: 1_704_067_200_123 });
  });
  it('reads times as ISO, epoch s, epoch ms, numeric strings', () => {
    expect(jsonTime(1704067200)).toBe(1_704_067_200_000);
    expect(jsonTime('1704067200.5')).toBe(1_704_067_200_500);
    expect(jsonTime('1704067200500')).toBe(1_704_067_200_500);
    expect(jsonTime('01/Jan/2024:00:00:00 +0000')).toBe(Date.UTC(2024, 0, 1));
    expect(jsonTime('yesterday')).toBeNaN();
    expect(jsonTime({})).toBeNaN();
  });
  it('drops non-objects and broken JSON as parse; flags bad times', () => {
    const p = jsonLinesParser();
    for (const bad of ['[1,2]', '"x"', 'null', '{"a":', '\u0000\u0001', '{"status":200}x']) expect(p.parse(bad, newParsedLine())).toBe('parse');
    const out = newParsedLine();
    p.parse('{"time":"soon","status":200}', out);
    expect(out.badTime).toBe(true);
  });
  it('rejects unknown --field names', () => {
    expect(() => parseFieldOptions(['color=red'])).toThrow(FormatError);
    expect(() => parseFieldOptions(['ip'])).toThrow(FormatError);
  });
});
