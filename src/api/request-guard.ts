import { isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, invalidParameter, methodNotAllowed, quoted } from '../contract/errors.js';
import { isLoopbackHost } from './metrics/access.js';

/**
 * Which `Host` header values the server answers. A page on another site can make a browser
 * send requests to a loopback server under a name that resolves there (DNS rebinding) and
 * read the answers (`/metrics`, the demo's `/dashboard/config.json`); such requests carry the
 * attacker's name in `Host`, so they are refused before any route runs.
 *
 * - `allowed` (the `--allowed-hosts` setting): names answered, case-insensitive, without port;
 *   `*` answers any name.
 * - A server listening on loopback also answers the loopback names (localhost, 127.x.x.x, ::1).
 * - With no names configured, a server listening on any other address answers any name (it is
 *   reached through names this process cannot know); list them to restrict it.
 */
export interface HostPolicy {
  allowed: readonly string[];
  /** Whether the listen address is loopback; absent: decided from the bound address. */
  loopback?: boolean;
}

/** The host name of a Host header value: lower-case, without port, brackets or a trailing dot. */
export function hostName(value: string): string | undefined {
  const v = value.trim().toLowerCase();
  if (v.length === 0 || v.length > 300) return undefined;
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    if (end < 0) return undefined;
    const rest = v.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    const ip = v.slice(1, end);
    return isIP(ip) === 6 ? ip : undefined;
  }
  const m = /^([a-z0-9._-]+?)\.?(?::\d{1,5})?$/.exec(v);
  return m?.[1];
}

/** Whether a host name is one of the loopback names (localhost, 127.0.0.0/8, ::1). */
const isLoopbackName = (name: string): boolean => isLoopbackHost(name) && (name === 'localhost' || isIP(name) !== 0);

export class HostCheck {
  private readonly names: Set<string>;
  private readonly any: boolean;
  /** Whether the bound address is loopback, once it is known (a listening server's address does not change). */
  private bound: boolean | undefined;

  /** `boundLoopback`: undefined until the server has an address (asked again until then, kept after). */
  constructor(private readonly policy: HostPolicy, private readonly boundLoopback: () => boolean | undefined) {
    this.any = policy.allowed.includes('*');
    this.names = new Set(policy.allowed.map((h) => hostName(h) ?? h.toLowerCase()));
  }

  /** Whether a request with this Host header (undefined: none) is answered. */
  allows(header: string | undefined): boolean {
    if (header === undefined) return false;
    const name = hostName(header);
    if (name === undefined) return false;
    if (this.any || this.names.has(name)) return true;
    const loopback = this.policy.loopback ?? (this.bound ??= this.boundLoopback()) ?? false;
    if (loopback) return isLoopbackName(name);
    return this.names.size === 0;
  }
}

const pathPattern = (url: string): RegExp =>
  new RegExp('^' + url.split('/').map((s) => (s.startsWith(':') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/') + '/?$');

/**
 * Checks every request has before routing: a permitted Host header (an envelope 400 otherwise,
 * also when it is missing), and a request target without `#` (a fragment is not part of an
 * HTTP request target; signatures and handlers would otherwise read the target differently).
 * Methods the router does not know (TRACE, PROPFIND, ...) on a known path get LIVE.100011011.
 */
export function registerRequestGuard(
  app: FastifyInstance, policy: HostPolicy, knownPaths: readonly string[],
): (request: FastifyRequest) => ApiError | undefined {
  // The bound address is read once (a system call per request otherwise), when the server has one.
  const check = new HostCheck(policy, () => {
    const a = app.server.address();
    return typeof a === 'object' && a !== null ? isLoopbackHost(a.address) : undefined;
  });
  app.addHook('onRequest', (request, reply, done) => {
    const host = request.headers.host;
    if (!check.allows(typeof host === 'string' ? host : undefined)) {
      void reply.header('Connection', 'close');
      done(invalidParameter('Host', `Host ${quoted(typeof host === 'string' ? host : '')} is not answered here; list it with --allowed-hosts (LIVESTATS_ALLOWED_HOSTS)`));
      return;
    }
    if ((request.raw.url ?? '').includes('#')) {
      done(invalidParameter('url', 'the request target contains "#" (a fragment is never sent to a server; percent-encode it as %23)'));
      return;
    }
    done();
  });
  const patterns = knownPaths.map(pathPattern);
  // What an unrouted request gets: LIVE.100011011 on a known path (another method), else nothing.
  return (request) => {
    const url = request.raw.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    return patterns.some((p) => p.test(path)) ? methodNotAllowed() : undefined;
  };
}
