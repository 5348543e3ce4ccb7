/** Value sets of the traffic/bandwidth endpoints (traffic-api.md). Case-sensitive, like region and isp. */
export const PROTOCOLS = ['flv', 'hls'] as const;
export type Protocol = (typeof PROTOCOLS)[number];
/** What a request URI that matches none of the stream shapes is counted as: in totals, never matched by a filter. */
export type StoredProtocol = Protocol | 'other';

export const IP_TYPES = ['v4', 'v6'] as const;
export type IpType = (typeof IP_TYPES)[number];
/** Address family of a line's client; 'other' when the logged address is not an IP (never matched by a filter). */
export type StoredIpType = IpType | 'other';

export const SERVICE_TYPES = ['Live', 'LLL', 'ALL'] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

export const INTERVALS_S = [300, 3600, 86400] as const;
export type IntervalSeconds = (typeof INTERVALS_S)[number];

const protocolSet: ReadonlySet<string> = new Set(PROTOCOLS);
const ipTypeSet: ReadonlySet<string> = new Set(IP_TYPES);
const serviceTypeSet: ReadonlySet<string> = new Set(SERVICE_TYPES);

export const isProtocol = (v: string): v is Protocol => protocolSet.has(v);
export const isIpType = (v: string): v is IpType => ipTypeSet.has(v);
export const isServiceType = (v: string): v is ServiceType => serviceTypeSet.has(v);

/** `interval` exactly as one of the allowed decimal numbers ('300', not '0300', '+300' or '300.0'). */
export function parseInterval(text: string): IntervalSeconds | undefined {
  for (const s of INTERVALS_S) if (text === String(s)) return s;
  return undefined;
}

export const MAX_NAME_LENGTH = 256;
// eslint-disable-next-line no-control-regex -- control characters are exactly what this rejects
const NAME_FORBIDDEN = /[\u0000-\u001f\u007f/]/;

/**
 * An application or stream name, as the API accepts it and as ingest stores it: 1..256 characters,
 * no '/' (names are single URI path segments) and no control characters. Case-sensitive.
 */
export const isStreamName = (s: string): boolean =>
  s.length > 0 && s.length <= MAX_NAME_LENGTH && !NAME_FORBIDDEN.test(s);
