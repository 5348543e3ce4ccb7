import type { AccessRecord } from '../ingest/aggregator.js';
import { TRAFFIC_SLOT_MS } from '../ingest/traffic/traffic-counter.js';
import type { TrafficRow } from '../store/traffic.js';

/** Streams of the demo: hls.example.com plays HLS, the others HTTP-FLV. */
const STREAMS = ['channel-1', 'sports'];
/** Bytes of one successful request: an FLV session, or one HLS segment (6 s at about 1.6 Mbps). */
const FLV_BYTES = 8_000_000;
const HLS_BYTES = 1_200_000;
const ERROR_BYTES = 512;

/**
 * The traffic cube row of one demo request: a stream picked with `rng`, its protocol from the
 * domain, bytes from the protocol and status, one client in ten on IPv6.
 */
export function demoTrafficRow(r: AccessRecord, rng: () => number): TrafficRow {
  const hls = r.domain.startsWith('hls.');
  const ok = r.code < 400;
  return {
    project: r.project, domain: r.domain, app: 'live', stream: STREAMS[Math.floor(rng() * STREAMS.length)] as string,
    protocol: hls ? 'hls' : 'flv', region: r.region, isp: r.isp, ipType: rng() < 0.1 ? 'v6' : 'v4',
    slot: Math.floor(r.time / TRAFFIC_SLOT_MS) * TRAFFIC_SLOT_MS, requests: 1,
    bytes: !ok ? ERROR_BYTES : hls ? HLS_BYTES : FLV_BYTES,
  };
}
