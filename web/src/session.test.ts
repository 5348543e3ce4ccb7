import { expect, it } from 'vitest';
import { loadSession, parseDomains, recentTasks, rememberTask, saveSession } from './session.js';

/** A Storage backed by a Map (the tests run in Node, which has no Web Storage). */
function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    get length() {
      return m.size;
    },
    clear: () => m.clear(),
    getItem: (k) => m.get(k) ?? null,
    key: (i) => [...m.keys()][i] ?? null,
    removeItem: (k) => void m.delete(k),
    setItem: (k, v) => void m.set(k, String(v)),
  };
}

it('domain input: commas, spaces and new lines; trimmed, lower-cased, de-duplicated', () => {
  expect(parseDomains(' Play.Example.com, hls.example.com\nplay.example.com.,, flv.example.com ')).toEqual([
    'play.example.com', 'hls.example.com', 'flv.example.com',
  ]);
  expect(parseDomains(' , ')).toEqual([]);
});

it('session round-trips; garbage or a bad project id reads as signed out', () => {
  const s = memoryStorage();
  expect(loadSession(s)).toBeUndefined();
  saveSession({ projectId: 'p-1', token: 'tok' }, s);
  expect(loadSession(s)).toEqual({ projectId: 'p-1', token: 'tok' });
  saveSession({ projectId: 'p-1', token: null }, s);
  expect(loadSession(s)).toEqual({ projectId: 'p-1', token: null });
  saveSession(undefined, s);
  expect(loadSession(s)).toBeUndefined();
  for (const raw of ['{', '42', '{"projectId":"../x"}', '{"projectId":7}']) {
    s.setItem('livestats.session', raw);
    expect(loadSession(s), raw).toBeUndefined();
  }
});

it('recent tasks: newest first, no repeats, at most 8, garbage ignored', () => {
  const s = memoryStorage();
  for (let i = 0; i < 10; i++) rememberTask(`t${i}`, s);
  rememberTask('t5', s);
  expect(recentTasks(s)).toEqual(['t5', 't9', 't8', 't7', 't6', 't4', 't3', 't2']);
  s.setItem('livestats.recentTasks', '{"not":"a list"}');
  expect(recentTasks(s)).toEqual([]);
  s.setItem('livestats.recentTasks', '["a", 3, null, "b"]');
  expect(recentTasks(s)).toEqual(['a', 'b']);
});
