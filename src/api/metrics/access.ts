import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** Whether a listen address only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:') && isIP(h.slice(7)) === 4) return h.slice(7).startsWith('127.');
  return h === '::1' || h === '0:0:0:0:0:0:0:1';
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Who may read GET /metrics. With a token configured, every scrape must send
 * `Authorization: Bearer <token>`. Without one, a server listening on loopback answers
 * anyone who can connect (only this machine), and any other server answers 401.
 */
export class MetricsAccess {
  private readonly token: Buffer | undefined;
  readonly loopback: boolean;

  constructor(o: { host: string; token?: string }) {
    this.token = o.token ? digest(o.token) : undefined;
    this.loopback = isLoopbackHost(o.host);
  }

  /** The startup warning when nobody can scrape this server (non-loopback, no token). */
  warning(host: string): string | undefined {
    if (this.token || this.loopback) return undefined;
    return `GET /metrics answers 401 to every scrape: the server listens on ${host} (not loopback) and no --metrics-token ` +
      '(LIVESTATS_METRICS_TOKEN) is set';
  }

  /** Whether a request with this Authorization header may read the metrics. */
  allows(authorization: string | undefined): boolean {
    if (!this.token) return this.loopback;
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
    return m !== null && timingSafeEqual(digest(m[1] as string), this.token);
  }
}
