import { expect, it } from 'vitest';
import { codeColours } from './colours.js';
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

it('colours: one family per class, distinct shades within a family', () => {
  const c = codeColours([{ code: 200, cls: '2xx' }, { code: 206, cls: '2xx' }, { code: 404, cls: '4xx' }, { code: 500, cls: '5xx' }, { code: 502, cls: '5xx' }]);
  expect(new Set(c).size).toBe(5);
  expect(c[0]).toMatch(/^#/);
  expect(codeColours([{ code: 200, cls: '2xx' }])[0]).toBe(c[0]);
});
