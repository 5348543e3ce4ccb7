import fc from 'fast-check';
import { escapeAs, type EscapeMode } from './escape.js';
import { DAY, headerText, hostArb, msec, NOW, offsetMinutes, pathArb, recentSecond, timeIso, timeLocal, type HostSample } from './values.js';

/** A log_format as the model knows it: literals and variables, in order. */
export type Seg = { lit: string } | { v: string };

/** A deliberate field-level fault whose drop reason the model knows. */
export type Fault = 'none' | 'status' | 'old' | 'future' | 'badtime' | 'nohost';

/** One request as an edge server would log it (raw, unescaped values). */
export interface LogRecord {
  ip: string;
  xff: string;
  user: string;
  time: number;
  offset: number;
  isoStyle: 'offset' | 'z' | 'fraction';
  method: string;
  path: string;
  absolute: boolean;
  status: number;
  bytes: number;
  referer: string;
  ua: string;
  host: HostSample;
  requestTime: string;
  requestId: string;
  fault: Fault;
}

const ipArb = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant('-'));

export const recordArb: fc.Arbitrary<LogRecord> = fc.record({
  ip: ipArb,
  xff: fc.oneof(fc.constant('-'), fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { minLength: 1, maxLength: 3 }).map((a) => a.join(', '))),
  user: fc.oneof(fc.constant('-'), fc.stringMatching(/^[a-z0-9_]{1,8}$/)),
  time: recentSecond,
  offset: offsetMinutes,
  isoStyle: fc.constantFrom('offset' as const, 'z' as const, 'fraction' as const),
  method: fc.constantFrom('GET', 'HEAD', 'POST'),
  path: pathArb,
  absolute: fc.boolean(),
  status: fc.integer({ min: 100, max: 599 }),
  bytes: fc.nat({ max: 1 << 30 }),
  referer: fc.oneof(fc.constant('-'), headerText),
  ua: headerText,
  host: hostArb,
  requestTime: fc.integer({ min: 0, max: 99999 }).map((n) => (n / 1000).toFixed(3)),
  requestId: fc.stringMatching(/^[0-9a-f]{8,32}$/),
  fault: fc.oneof({ weight: 10, arbitrary: fc.constant('none' as const) }, { weight: 5, arbitrary: fc.constantFrom('status' as const, 'old' as const, 'future' as const, 'badtime' as const, 'nohost' as const) }),
});

export const TIME_VARS = ['time_local', 'time_iso8601', 'msec'];
export const HOST_VARS = ['host', 'http_host', 'server_name'];

/** The record's time after its fault (a fault moves it out of the countable window). */
function effectiveTime(r: LogRecord): number {
  if (r.fault === 'old') return NOW - 9 * DAY;
  if (r.fault === 'future') return NOW + 60 * 60_000 + (r.time % 60_000);
  return r.time;
}

/** The raw value nginx would log for a variable of this record. */
export function valueOf(r: LogRecord, name: string): string {
  const t = effectiveTime(r);
  const host = r.fault === 'nohost' ? '-' : r.host.logged;
  switch (name) {
    case 'remote_addr': return r.ip;
    case 'remote_user': return r.user;
    case 'http_x_forwarded_for': return r.xff;
    case 'time_local': return r.fault === 'badtime' ? '30/Feb/2026:10:00:00 +0000' : timeLocal(t, r.offset);
    case 'time_iso8601': return r.fault === 'badtime' ? '2026-02-30T10:00:00+00:00' : timeIso(t, r.offset, r.isoStyle);
    case 'msec': return r.fault === 'badtime' ? '17000.5' : msec(t);
    case 'request': {
      const target = r.absolute && r.fault !== 'nohost' ? `http://${r.host.logged}${r.path}` : r.path;
      return `${r.method} ${target} HTTP/1.1`;
    }
    case 'status': return r.fault === 'status' ? ['600', '099', '20', '2000', '0x1'][r.bytes % 5] as string : String(r.status);
    case 'body_bytes_sent': case 'bytes_sent': return String(r.bytes);
    case 'request_time': return r.requestTime;
    case 'http_referer': return r.referer;
    case 'http_user_agent': return r.ua;
    case 'host': case 'http_host': case 'server_name': return host;
    case 'request_id': return r.requestId;
    default: return `v${r.bytes % 97}`;
  }
}

/** The line nginx writes for this record with this format. */
export function renderLine(segs: readonly Seg[], r: LogRecord, mode: EscapeMode): string {
  let out = '';
  for (const s of segs) out += 'lit' in s ? s.lit : escapeAs(mode, valueOf(r, s.v));
  return out;
}

/** What the processor must answer for this record under this format (undefined: counted). */
export function expectedReason(segs: readonly Seg[], r: LogRecord): string | undefined {
  const vars = segs.flatMap((s) => ('v' in s ? [s.v] : []));
  if (!vars.includes('status') || r.fault === 'status') return 'bad_status';
  if (!vars.some((v) => TIME_VARS.includes(v)) || r.fault === 'badtime') return 'bad_time';
  if (r.fault === 'old') return 'too_old';
  if (r.fault === 'future') return 'future';
  const hasHost = vars.some((v) => HOST_VARS.includes(v));
  if (hasHost) return r.fault === 'nohost' ? 'bad_domain' : undefined;
  if (!vars.includes('request')) return 'bad_domain';
  return r.absolute && r.fault !== 'nohost' ? undefined : 'bad_domain';
}

/** Expected epoch ms the parser reads from the line's time variable (NaN when the format has none). */
export function expectedTime(segs: readonly Seg[], r: LogRecord): number {
  const v = segs.find((s): s is { v: string } => 'v' in s && TIME_VARS.includes(s.v));
  if (!v || r.fault === 'badtime') return NaN;
  const t = effectiveTime(r);
  if (v.v === 'time_local' || (v.v === 'time_iso8601' && r.isoStyle !== 'fraction')) return Math.floor(t / 1000) * 1000;
  return t;
}

/** The presets, written out as nginx defines them (independently of src/ingest/formats/presets.ts). */
const COMBINED: Seg[] = [
  { v: 'remote_addr' }, { lit: ' - ' }, { v: 'remote_user' }, { lit: ' [' }, { v: 'time_local' }, { lit: '] "' }, { v: 'request' },
  { lit: '" ' }, { v: 'status' }, { lit: ' ' }, { v: 'body_bytes_sent' }, { lit: ' "' }, { v: 'http_referer' }, { lit: '" "' },
  { v: 'http_user_agent' }, { lit: '"' },
];
export const PRESET_SEGS: Record<'combined' | 'combined_host' | 'nginx_json', { segs: Seg[]; mode: EscapeMode }> = {
  combined: { segs: COMBINED, mode: 'default' },
  combined_host: { segs: [...COMBINED, { lit: ' ' }, { v: 'host' }], mode: 'default' },
  nginx_json: {
    mode: 'json',
    segs: [
      { lit: '{"time":"' }, { v: 'time_iso8601' }, { lit: '","remote_addr":"' }, { v: 'remote_addr' }, { lit: '","x_forwarded_for":"' },
      { v: 'http_x_forwarded_for' }, { lit: '","host":"' }, { v: 'host' }, { lit: '","request":"' }, { v: 'request' }, { lit: '","status":' },
      { v: 'status' }, { lit: ',"body_bytes_sent":' }, { v: 'body_bytes_sent' }, { lit: ',"request_time":' }, { v: 'request_time' },
      { lit: ',"http_referer":"' }, { v: 'http_referer' }, { lit: '","http_user_agent":"' }, { v: 'http_user_agent' }, { lit: '"}' },
    ],
  },
};
