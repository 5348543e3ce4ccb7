import { expect, it } from 'vitest';
import { addDomain, neverStoredNote, parseNames, unknownDomains } from './pickers.js';
import { ShapeError } from './shape.js';

it('parses the dashboard/names answer and rejects malformed ones', () => {
  expect(parseNames({
    domains: ['a.example.com'], tasks: [{ task_id: 't1', last_sample_time: '2026-12-06T10:00:00Z' }, { task_id: 't2', last_sample_time: null }], truncated: false,
  })).toEqual({ domains: ['a.example.com'], tasks: [{ id: 't1', lastSample: Date.UTC(2026, 11, 6, 10) }, { id: 't2', lastSample: null }], truncated: false });
  for (const bad of [
    null, [], { domains: [], tasks: [] }, { domains: [1], tasks: [], truncated: false },
    { domains: [], tasks: [{ task_id: 't', last_sample_time: 'yesterday' }], truncated: false },
    { domains: [], tasks: [{ last_sample_time: null }], truncated: false },
  ]) expect(() => parseNames(bad)).toThrow(ShapeError);
});

it('names the typed domains never stored, and adds a picked domain to the list once', () => {
  expect(unknownDomains(['a.example.com', 'typo.example.com'], ['a.example.com', 'b.example.com'])).toEqual(['typo.example.com']);
  expect(neverStoredNote(['a.example.com', 'typo.example.com', 'b.typo'], ['a.example.com'])).toBe(' · never stored (a typo?): typo.example.com, b.typo');
  expect(neverStoredNote(['a.example.com'], ['a.example.com'])).toBe('');
  expect(neverStoredNote(['typo.example.com'], undefined)).toBe('');
  expect(addDomain('', 'a.example.com')).toBe('a.example.com');
  expect(addDomain('a.example.com,b.example.com', 'c.example.com')).toBe('a.example.com, b.example.com, c.example.com');
  expect(addDomain('A.example.com ', 'a.example.com')).toBe('a.example.com');
});
