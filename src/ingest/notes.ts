import { isPublicAddress } from './client-ip.js';
import type { DropReason } from './formats/types.js';
import { regionOfCode, type GeoCode } from './geo/names.js';

/** Longest sample line kept per drop reason (characters). */
export const SAMPLE_CHARS = 300;

/**
 * What an ingest run noticed besides its counts, so a mistake is shown rather than only counted:
 * the first dropped line of each reason, and whether any counted client address was located.
 * Plain data: parse workers post it to the main thread.
 */
export interface IngestNotes {
  /** The first line dropped for each reason (cut at SAMPLE_CHARS). */
  samples: Partial<Record<DropReason, string>>;
  /** True once a counted line's client was a public address or was located in a province (by ip2region or --geo-overrides). */
  located: boolean;
  /** Counted lines whose client address was private (10/8, 192.168/16, 127/8, fc00::/7, ...) and not located. */
  privateClients: number;
  /** The first such address. */
  privateSample: string;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\u0000-\u007f]/;

/**
 * A dropped line as shown to the operator: cut at SAMPLE_CHARS, UTF-8 when it was read as latin1 bytes,
 * control characters as \xHH (a log line must not drive the operator's terminal).
 */
export function sampleOf(line: string, latin1: boolean): string {
  let s = line.slice(0, SAMPLE_CHARS * 4);
  if (latin1 && NON_ASCII.test(s)) s = Buffer.from(s, 'latin1').toString('utf8');
  s = s.slice(0, SAMPLE_CHARS);
  return s.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export const emptyNotes = (): IngestNotes => ({ samples: {}, located: false, privateClients: 0, privateSample: '' });

/**
 * Notes one counted line's client: `privateV4` is isPrivateIpv4 of an IPv4 address (undefined for
 * others, then checked here). Called only until one client is located, so it costs nothing after.
 */
export function noteClient(n: IngestNotes, address: string, privateV4: boolean | undefined, geo: GeoCode): void {
  if (regionOfCode(geo) !== 'OT') {
    n.located = true;
    return;
  }
  const isPrivate = privateV4 ?? (address === '' || !isPublicAddress(address));
  if (!isPrivate) {
    n.located = true;
    return;
  }
  n.privateClients++;
  if (n.privateSample === '') n.privateSample = address === '' ? '(none)' : address;
}

export function mergeNotes(into: IngestNotes, from: IngestNotes): void {
  for (const [k, v] of Object.entries(from.samples) as Array<[DropReason, string]>) into.samples[k] ??= v;
  into.located ||= from.located;
  into.privateClients += from.privateClients;
  if (into.privateSample === '') into.privateSample = from.privateSample;
}

/** The warning for a run whose counted clients all had private addresses (nginx behind a proxy or load balancer). */
export function privateClientsWarning(n: IngestNotes, accepted: number): string | undefined {
  if (accepted === 0 || n.located || n.privateClients === 0) return undefined;
  return `every counted client address was private (e.g. ${n.privateSample}), so all traffic counts as abroad/other (OT): ` +
    'is nginx behind a proxy or load balancer? Log "$http_x_forwarded_for" (its first public address is used) or set ' +
    'nginx real_ip_header/set_real_ip_from, or map your private ranges with --geo-overrides (docs/ingest.md, "Behind a proxy")';
}
