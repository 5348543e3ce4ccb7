import { expect, it } from 'vitest';
import { codeColour } from './colours.js';
import { httpCodesParams } from './query.js';

const window = { start: Date.parse('2026-11-23T06:00:00Z'), end: Date.parse('2026-11-23T07:00:00Z'), live: true };

it('httpcodes parameters carry domains, window and filters; a province query overrides the region', () => {
  const q = { domains: ['a.com', 'b.com'], window, region: '', isp: 'CMCC' };
  expect(Object.fromEntries(httpCodesParams(q))).toEqual({
    play_domains: 'a.com,b.com', start_time: '2026-11-23T06:00:00Z', end_time: '2026-11-23T07:00:00Z', isp: 'CMCC',
  });
  expect(httpCodesParams(q, 'GD').get('region')).toBe('GD');
  expect(httpCodesParams({ ...q, region: 'SH', isp: '' }).get('region')).toBe('SH');
  expect(httpCodesParams({ ...q, isp: '' }).has('isp')).toBe(false);
});

it('colours: fixed per code (not by what else is shown), one family per class, 404 and 499 apart', () => {
  const codes = [200, 206, 302, 304, 404, 499, 500, 502, 503];
  const c = codes.map(codeColour);
  expect(new Set(c).size).toBe(codes.length);
  expect(codeColour(404)).not.toBe(codeColour(499));
  expect(codeColour(200)).toBe('#2e7d32');
  // Unlisted codes: a shade of their class, the same every time.
  expect(codeColour(418)).toBe(codeColour(418));
  expect(codeColour(299)).toMatch(/^#/);
});
