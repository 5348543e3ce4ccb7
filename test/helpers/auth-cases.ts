import { expect, it } from 'vitest';
import type { AuthApp } from './auth-app.js';

/**
 * The 401s every endpoint gives, for each of `paths` (project A's, on the AuthApp `app()` returns): no
 * credential is LIVE.100011002, project B's token is LIVE.100011015. `badQuery` (e.g. "?interval=120")
 * goes with the missing credential, to show authentication comes before the parameters.
 */
export function refusesMissingAndForeignCredentials(app: () => AuthApp, paths: readonly string[], badQuery = ''): void {
  it.each(paths)(`%s: no credential is 401 LIVE.100011002${badQuery ? ' (even with bad parameters)' : ''}`, async (path) => {
    const res = await fetch(`${app().url}${path}${badQuery}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error_code: 'LIVE.100011002', error_msg: 'Authentication failed' });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
  });
  it.each(paths)("%s: project B's token on project A's path is 401 LIVE.100011015", async (path) => {
    const res = await fetch(app().url + path, { headers: { 'x-auth-token': app().b.token } });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error_code: 'LIVE.100011015', error_msg: 'Project id check failed' });
  });
}
