import { windowParams, type ResolvedWindow } from './timewin.js';

/** The filters of the Traffic view, as the API takes them. */
export interface TrafficQuery {
  /** Empty: every domain of the project. */
  domains: string[];
  window: ResolvedWindow;
  /** Seconds: 300, 3600 or 86400. */
  interval: number;
  region: string;
  isp: string;
  protocol: string;
}

/**
 * Parameters shared by the four endpoints, optionally with another carrier or protocol than the
 * filter's (for the splits); `interval` only where the endpoint has one.
 */
export function trafficParams(q: TrafficQuery, over: { isp?: string; protocol?: string; interval?: boolean } = {}): URLSearchParams {
  const p = new URLSearchParams();
  if (q.domains.length > 0) p.set('play_domains', q.domains.join(','));
  windowParams(q.window, p);
  if (over.interval) p.set('interval', String(q.interval));
  if (q.region) p.set('region', q.region);
  const isp = over.isp ?? q.isp;
  if (isp) p.set('isp', isp);
  const protocol = over.protocol ?? q.protocol;
  if (protocol) p.set('protocol', protocol);
  return p;
}
