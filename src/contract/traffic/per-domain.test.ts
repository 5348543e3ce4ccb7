import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { parseRawQuery } from '../query.js';
import { perDomainJson, perDomainNeedsData, perDomainValue, parsePerDomainQuery, shapePerDomain, type PerDomainKind, type PerDomainQuery } from './per-domain.js';

const NOW = Date.UTC(2028, 2, 1, 12, 0, 30, 250);
const D = 86_400_000;
const ok = (qs: string, kind: PerDomainKind): PerDomainQuery => {
  const q = parsePerDomainQuery(parseRawQuery(qs), kind, NOW, 400 * D);
  if (q instanceof ApiError) throw new Error(q.body.error_msg);
  return q;
};
const failed = (qs: string, kind: PerDomainKind): string | undefined => {
  const q = parsePerDomainQuery(parseRawQuery(qs), kind, NOW, 400 * D);
  return q instanceof ApiError ? q.body.error_msg : undefined;
};

describe('parsePerDomainQuery', () => {
  it('always reads 5-minute slots (no interval parameter; interval, ip_type and country are ignored)', () => {
    const q = ok('start_time=2028-03-01T10:02:00Z&end_time=2028-03-01T11:00:00Z&interval=301&ip_type=v5&country=CN', 'peak');
    expect(q.slots).toEqual({ slotMs: 300_000, from: Date.UTC(2028, 2, 1, 10, 0), to: Date.UTC(2028, 2, 1, 11, 0), count: 12 });
  });
  it('applies the shared rules', () => {
    for (const kind of ['summary', 'peak'] as const) {
      expect(failed('protocol=rtmp', kind)).toBe('Invalid request parameter: protocol');
      expect(failed('service_type=lll', kind)).toBe('Invalid request parameter: service_type');
      expect(failed(`play_domains=${Array.from({ length: 101 }, (_, i) => `d${i}.com`).join(',')}`, kind)).toBe('Invalid request parameter: play_domains');
      expect(failed('start_time=2028-01-01T00:00:00Z&end_time=2028-02-01T00:00:01Z', kind)).toBe('Invalid request parameter: start_time');
      expect(ok('start_time=2028-01-01T00:00:00Z&end_time=2028-02-01T00:00:00Z', kind).slots.count).toBe(8928);
    }
    expect(perDomainNeedsData(ok('service_type=LLL', 'summary'))).toBe(false);
    expect(perDomainNeedsData(ok('service_type=ALL', 'summary'))).toBe(true);
  });
});

describe('perDomainValue', () => {
  it('sums bytes for summary and picks the busiest 5-minute slot for peak', () => {
    const series = [37_500, 112_500, 75_000, 0]; // 1000, 3000, 2000, 0 bps
    expect(perDomainValue('summary', series)).toBe(225_000);
    expect(perDomainValue('peak', series)).toBe(3000);
    expect(perDomainValue('peak', [19])).toBe(1); // half-up of 0.5067
    expect(perDomainValue('peak', undefined)).toBe(0);
    expect(perDomainValue('summary', [])).toBe(0);
  });
});

describe('shapePerDomain / perDomainJson', () => {
  const W = 'start_time=2028-03-01T10:00:00Z&end_time=2028-03-01T10:15:00Z';
  const bytes = new Map([['a.com', [37_500, 0, 75_000]], ['c.com', [300, 300, 300]], ['z.com', [1, 1, 1]]]);

  it('one entry per requested domain, in request order, 0 without traffic', () => {
    expect(shapePerDomain(ok(`${W}&play_domains=c.com,B.com,a.com`, 'summary'), ['a.com', 'c.com', 'z.com'], bytes)).toEqual({
      traffic_list: [{ value: 900, domain: 'c.com' }, { value: 0, domain: 'b.com' }, { value: 112_500, domain: 'a.com' }],
    });
    expect(shapePerDomain(ok(`${W}&play_domains=c.com,b.com,a.com`, 'peak'), [], bytes)).toEqual({
      bandwidth_list: [{ value: 8, domain: 'c.com' }, { value: 0, domain: 'b.com' }, { value: 2000, domain: 'a.com' }],
    });
  });

  it('every domain of the project when none is requested, in the order given', () => {
    expect(shapePerDomain(ok(W, 'peak'), ['a.com', 'b.com', 'c.com'], bytes)).toEqual({
      bandwidth_list: [{ value: 2000, domain: 'a.com' }, { value: 0, domain: 'b.com' }, { value: 8, domain: 'c.com' }],
    });
    expect(shapePerDomain(ok(W, 'summary'), [], bytes)).toEqual({ traffic_list: [] });
  });

  it('JSON text equals the shaped object', () => {
    for (const kind of ['summary', 'peak'] as const) {
      for (const qs of [W, `${W}&play_domains=z.com,a.com,q.com`]) {
        const q = ok(qs, kind);
        const text = perDomainJson(q, ['a.com', 'c.com', 'z.com'], bytes);
        expect(JSON.parse(text)).toEqual(shapePerDomain(q, ['a.com', 'c.com', 'z.com'], bytes));
      }
    }
  });
});
