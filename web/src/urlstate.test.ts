import { expect, it } from 'vitest';
import { decodeState, encodeState } from './urlstate.js';

it('writes only values that differ from the defaults, under the view prefix, and reads them back', () => {
  const params = new URLSearchParams('refresh=1500&tz=utc&pb.region=GD');
  encodeState(params, 'tr', { window: '7d', interval: '300', domains: 'a.example.com, b.example.com' }, { window: '24h', interval: '300', domains: '' });
  expect(params.toString()).toBe('refresh=1500&tz=utc&pb.region=GD&tr.window=7d&tr.domains=a.example.com%2C+b.example.com');
  expect(decodeState(params, 'tr', ['window', 'interval', 'domains'])).toEqual({ window: '7d', domains: 'a.example.com, b.example.com' });
  expect(decodeState(params, 'pb', ['region', 'isp'])).toEqual({ region: 'GD' });
  // Back to the default: the key leaves the URL.
  encodeState(params, 'tr', { window: '24h' }, { window: '24h' });
  expect(params.has('tr.window')).toBe(false);
});

it('keeps values with reserved characters exact', () => {
  const params = new URLSearchParams();
  encodeState(params, 'cr', { task: 'a&b=c #1', from: '2026-12-06T10:00Z' }, { task: '', from: '' });
  const back = new URLSearchParams(params.toString());
  expect(decodeState(back, 'cr', ['task', 'from'])).toEqual({ task: 'a&b=c #1', from: '2026-12-06T10:00Z' });
});
