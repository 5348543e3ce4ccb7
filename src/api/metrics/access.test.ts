import { expect, it } from 'vitest';
import { isLoopbackHost, MetricsAccess } from './access.js';

it('tells loopback listen addresses from the others', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
  for (const h of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.1', 'example.com', '::ffff:10.0.0.1', '128.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
});

it('opens /metrics on loopback without a token, and requires the token whenever one is set', () => {
  const local = new MetricsAccess({ host: '127.0.0.1' });
  expect(local.allows(undefined)).toBe(true);
  expect(local.warning('127.0.0.1')).toBeUndefined();

  const exposed = new MetricsAccess({ host: '0.0.0.0' });
  expect(exposed.allows(undefined)).toBe(false);
  expect(exposed.allows('Bearer anything')).toBe(false);
  expect(exposed.warning('0.0.0.0')).toContain('--metrics-token');

  for (const host of ['0.0.0.0', '127.0.0.1']) {
    const withToken = new MetricsAccess({ host, token: 's3cret' });
    expect(withToken.warning(host)).toBeUndefined();
    expect(withToken.allows('Bearer s3cret')).toBe(true);
    expect(withToken.allows('bearer  s3cret ')).toBe(true);
    expect(withToken.allows('Bearer s3cre')).toBe(false);
    expect(withToken.allows('Basic s3cret')).toBe(false);
    expect(withToken.allows(undefined)).toBe(false);
  }
});
