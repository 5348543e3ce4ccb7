import { ApiError, invalidParameter, quoted } from '../errors.js';
import { badEncoding, singleReason, tooMany } from '../reasons.js';
import { normalizeDomain } from '../domain.js';
import { arrayParam, singleParam, type RawQuery } from '../query.js';
import { DAY } from '../time.js';
import { ISPS, isIsp, isRegion, REGIONS, type Isp, type Region } from '../values.js';
import { resolveWindow, type TimeWindow, type WindowRule } from '../window.js';
import { isProtocol, isServiceType, isStreamName, PROTOCOLS, SERVICE_TYPES, type Protocol, type ServiceType } from './values.js';

export const MAX_TRAFFIC_DOMAINS = 100;
export const TRAFFIC_MAX_SPAN_MS = 31 * DAY;
/** "look-back <= 1 year": 365 days. */
export const TRAFFIC_MAX_LOOKBACK_MS = 365 * DAY;
export const TRAFFIC_DEFAULT_SPAN_MS = 7 * DAY;

/** The filters every traffic/bandwidth endpoint shares (all but the time window). */
export interface TrafficFilters {
  /** Normalized play domains in request order, de-duplicated; empty: every domain of the project. */
  domains: string[];
  /** Only when `domains` is given: without play_domains, app and stream are ignored (traffic-api.md). */
  app: string | undefined;
  stream: string | undefined;
  protocol: Protocol | undefined;
  regions: Region[];
  isps: Isp[];
  serviceType: ServiceType;
}

/** A single optional parameter that must pass `valid`; empty (after trimming) means absent. */
function optionalValue(
  query: RawQuery, name: string, valid: (v: string) => boolean, choices?: readonly string[],
): string | undefined | ApiError {
  const p = singleParam(query, name);
  if (!p.ok) return invalidParameter(name, singleReason(p.reason));
  const v = p.value?.trim();
  if (v === undefined || v === '') return undefined;
  if (valid(v)) return v;
  return invalidParameter(name, choices ? `${quoted(v)} is not one of ${choices.join(', ')}` : `${quoted(v)} is not an accepted value`);
}

/** A single optional parameter whose value is one of a set (exact, case-sensitive); undefined when absent. */
export function optionalChoice<T extends string>(
  query: RawQuery, name: string, is: (v: string) => v is T, choices?: readonly string[],
): T | undefined | ApiError {
  const v = optionalValue(query, name, is, choices);
  return v instanceof ApiError || v === undefined ? v : (v as T);
}

/**
 * Parses the shared filters, checking parameters in this order: play_domains, app, stream,
 * region, isp, protocol, service_type. The first one at fault is the one named in the 400.
 */
export function parseTrafficFilters(query: RawQuery): TrafficFilters | ApiError {
  const rawDomains = arrayParam(query, 'play_domains');
  if (!rawDomains) return invalidParameter('play_domains', badEncoding);
  const domains = new Set<string>();
  for (const d of rawDomains) {
    const n = normalizeDomain(d);
    if (n === undefined) return invalidParameter('play_domains', `${quoted(d)} is not a valid domain name`);
    domains.add(n);
  }
  if (domains.size > MAX_TRAFFIC_DOMAINS) return invalidParameter('play_domains', tooMany(domains.size, MAX_TRAFFIC_DOMAINS));

  const app = optionalValue(query, 'app', isStreamName);
  if (app instanceof ApiError) return app;
  const stream = optionalValue(query, 'stream', isStreamName);
  if (stream instanceof ApiError) return stream;

  const rawRegions = arrayParam(query, 'region');
  if (!rawRegions) return invalidParameter('region', badEncoding);
  const badRegion = rawRegions.find((r) => !isRegion(r));
  if (badRegion !== undefined) return invalidParameter('region', `${quoted(badRegion)} is not a region code (${REGIONS.join(', ')})`);
  const rawIsps = arrayParam(query, 'isp');
  if (!rawIsps) return invalidParameter('isp', badEncoding);
  const badIsp = rawIsps.find((r) => !isIsp(r));
  if (badIsp !== undefined) return invalidParameter('isp', `${quoted(badIsp)} is not one of ${ISPS.join(', ')}`);

  const protocol = optionalChoice(query, 'protocol', isProtocol, PROTOCOLS);
  if (protocol instanceof ApiError) return protocol;
  const serviceType = optionalChoice(query, 'service_type', isServiceType, SERVICE_TYPES);
  if (serviceType instanceof ApiError) return serviceType;

  const byDomain = domains.size > 0;
  return {
    domains: [...domains],
    app: byDomain ? app : undefined,
    stream: byDomain ? stream : undefined,
    protocol,
    regions: (rawRegions as Region[]).sort(),
    isps: (rawIsps as Isp[]).sort(),
    serviceType: serviceType ?? 'ALL',
  };
}

/**
 * The window rule of the four endpoints: default the last 7 days, span <= 31 days, look-back
 * <= min(1 year, what is stored): `storedMs` is how far back the cube keeps data.
 */
export const trafficWindowRule = (storedMs: number): WindowRule => ({
  maxSpanMs: TRAFFIC_MAX_SPAN_MS,
  maxLookbackMs: Math.min(TRAFFIC_MAX_LOOKBACK_MS, storedMs),
  defaultSpanMs: TRAFFIC_DEFAULT_SPAN_MS,
});

/** start_time/end_time of a traffic endpoint (see resolveWindow for which parameter is named). */
export const resolveTrafficWindow = (query: RawQuery, nowMs: number, storedMs: number): TimeWindow | ApiError =>
  resolveWindow(query, trafficWindowRule(storedMs), nowMs);
