import { windowParams, type ResolvedWindow } from './timewin.js';

/** The filters of the playback view, as the API takes them. */
export interface PlaybackQuery {
  domains: string[];
  window: ResolvedWindow;
  region: string;
  isp: string;
}

/** ListQueryHttpCode parameters for the filters (optionally for one province instead of the filter's). */
export function httpCodesParams(q: PlaybackQuery, region = q.region): URLSearchParams {
  const p = new URLSearchParams();
  p.set('play_domains', q.domains.join(','));
  windowParams(q.window, p);
  if (region) p.set('region', region);
  if (q.isp) p.set('isp', q.isp);
  return p;
}
