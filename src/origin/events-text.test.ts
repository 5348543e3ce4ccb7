import { describe, expect, it } from 'vitest';
import { parseNginxNotify, parseSrsHook } from './events.js';

const srs = (more: Record<string, unknown>): unknown => ({ action: 'on_publish', client_id: 'c1', ip: '10.0.0.1', vhost: '__defaultVhost__', app: 'live', stream: 's1', ...more });

/** Text no store can write (a lone UTF-16 surrogate) never reaches the tracker: one refused notification, not a stuck write. */
describe('origin notifications: text a store cannot write', () => {
  it('a name holding a lone surrogate is refused (bad_name); a whole pair is kept', () => {
    expect(parseSrsHook(srs({ stream: 'a\uD800b' }), 'o1', 'push.example.com')).toBe('bad_name');
    expect(parseSrsHook(srs({ app: '\uDC00' }), 'o1', 'push.example.com')).toBe('bad_name');
    expect(parseSrsHook(srs({ stream: 'a\uD83D\uDE00' }), 'o1', 'push.example.com')).toMatchObject({ stream: 'a\uD83D\uDE00' });
  });

  it('a client address holding a lone surrogate (sent so, or made so by the 64-unit cut) is stored with U+FFFD', () => {
    expect(parseSrsHook(srs({ ip: '1\uDBFF' }), 'o1', undefined)).toMatchObject({ addr: '1\uFFFD' });
    const cut = `${'x'.repeat(63)}\uD83D\uDE00`;
    const e = parseNginxNotify(new URLSearchParams({ call: 'publish', app: 'live', name: 's1', clientid: '3', addr: cut }), 'o1', undefined);
    expect(e).toMatchObject({ addr: `${'x'.repeat(63)}\uFFFD` });
  });
});
