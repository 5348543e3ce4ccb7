import { expect, it } from 'vitest';
import { DEGRADED_5XX, FAILING_5XX, HEALTH_MINUTES, healthOf } from './health.js';

const minute = (i: number, total: number, serverErrors = 0, clientErrors = 0): { time: number; total: number; errors: number; serverErrors: number } =>
  ({ time: i * 60_000, total, errors: serverErrors + clientErrors, serverErrors });

it('grades the 5xx share of the newest complete minutes against the documented thresholds', () => {
  expect(DEGRADED_5XX).toBe(0.01);
  expect(FAILING_5XX).toBe(0.05);
  const healthy = healthOf([minute(0, 1000, 9, 300)]);
  expect(healthy).toEqual({ level: 'healthy', minutes: 1, requests: 1000, serverShare: 0.009, clientShare: 0.3 });
  expect(healthOf([minute(0, 1000, 10)]).level).toBe('degraded');
  expect(healthOf([minute(0, 1000, 49)]).level).toBe('degraded');
  expect(healthOf([minute(0, 1000, 50)]).level).toBe('failing');
});

it('4xx (404, 499) never degrade it; too few requests are "unknown"; only the newest minutes count', () => {
  expect(healthOf([minute(0, 1000, 0, 900)]).level).toBe('healthy');
  expect(healthOf([minute(0, 99, 50)]).level).toBe('unknown');
  expect(healthOf([]).level).toBe('unknown');
  // An old failing stretch followed by HEALTH_MINUTES good minutes: healthy.
  const old = Array.from({ length: 30 }, (_, i) => minute(i, 100, 100));
  const recent = Array.from({ length: HEALTH_MINUTES }, (_, i) => minute(30 + i, 100));
  const h = healthOf([...old, ...recent]);
  expect(h).toMatchObject({ level: 'healthy', minutes: HEALTH_MINUTES, requests: 100 * HEALTH_MINUTES, serverShare: 0 });
});
