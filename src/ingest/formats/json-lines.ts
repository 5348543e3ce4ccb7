import { FormatError } from './log-format.js';
import { epochToMs, parseEpochSeconds, parseIso8601, parseTimeLocal } from './times.js';
import type { DropReason, LineParser, ParsedLine } from './types.js';
import { wellFormed } from './unescape.js';

/** The fields a JSON line can provide; each maps to a (dotted) path in the object. */
export const JSON_FIELDS = ['ip', 'xff', 'time', 'domain', 'status', 'request', 'uri', 'bytes', 'request_time', 'msec'] as const;
export type JsonField = (typeof JSON_FIELDS)[number];
export type FieldMapping = Partial<Record<JsonField, string>>;

/** Paths tried in order when a field is not mapped explicitly (nginx names, Vector, Fluent Bit, ECS). */
const DEFAULT_PATHS: Record<JsonField, string[]> = {
  ip: ['remote_addr', 'client_ip', 'clientip', 'remote_ip', 'ip', 'client.ip', 'source.ip'],
  xff: ['http_x_forwarded_for', 'x_forwarded_for', 'xff'],
  time: ['time_iso8601', 'time', 'timestamp', '@timestamp', 'ts', 'msec', 'time_local'],
  domain: ['host', 'http_host', 'domain', 'server_name', 'url.domain'],
  status: ['status', 'status_code', 'code', 'http.response.status_code'],
  request: ['request'],
  uri: ['request_uri', 'uri', 'url.original', 'url.path'],
  bytes: ['bytes_sent', 'body_bytes_sent', 'bytes', 'http.response.bytes', 'http.response.body.bytes'],
  /** Seconds the request took (nginx $request_time): an FLV line's session length. */
  request_time: ['request_time'],
  /** Epoch seconds with milliseconds (nginx $msec): when logged, the line's time, before `time`. */
  msec: ['msec'],
};

/** Parses `--field name=path` options; throws on unknown names. */
export function parseFieldOptions(options: readonly string[]): FieldMapping {
  const m: FieldMapping = {};
  for (const o of options) {
    const eq = o.indexOf('=');
    const name = o.slice(0, eq) as JsonField;
    const path = o.slice(eq + 1).trim();
    if (eq <= 0 || !JSON_FIELDS.includes(name) || path === '') {
      throw new FormatError(`--field "${o}": expected NAME=PATH with NAME one of ${JSON_FIELDS.join(', ')}`);
    }
    m[name] = path;
  }
  return m;
}

type Obj = Record<string, unknown>;

function get(obj: Obj, path: string): unknown {
  if (path in obj) return obj[path];
  if (path.indexOf('.') < 0) return undefined;
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Obj)[key];
  }
  return cur;
}

function text(v: unknown): string {
  if (typeof v === 'string') return v === '-' ? '' : wellFormed(v);
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return '';
}

/** A time field: ISO 8601, nginx time_local, epoch seconds or milliseconds (number or numeric string). */
export function jsonTime(v: unknown): number {
  if (typeof v === 'number') return epochToMs(v);
  if (typeof v !== 'string' || v === '' || v === '-') return NaN;
  if (/^\d+(\.\d+)?$/.test(v)) return v.length >= 12 && v.indexOf('.') < 0 ? epochToMs(Number(v)) : parseEpochSeconds(v);
  return v.length === 26 && v[2] === '/' ? parseTimeLocal(v) : parseIso8601(v);
}

/** JSON lines: one object per line, fields found through the mapping (or the defaults). */
export function jsonLinesParser(mapping: FieldMapping = {}): LineParser {
  const paths = {} as Record<JsonField, string[]>;
  for (const f of JSON_FIELDS) paths[f] = mapping[f] ? [mapping[f] as string] : DEFAULT_PATHS[f];
  const pick = (obj: Obj, f: JsonField): unknown => {
    for (const p of paths[f]) {
      const v = get(obj, p);
      if (v !== undefined && v !== null) return v;
    }
    return undefined;
  };
  return {
    name: 'json',
    encoding: 'utf8',
    parse(line: string, out: ParsedLine): DropReason | undefined {
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch {
        return 'parse';
      }
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return 'parse';
      const o = obj as Obj;
      out.remoteAddr = text(pick(o, 'ip'));
      out.forwardedFor = text(pick(o, 'xff'));
      out.host = text(pick(o, 'domain'));
      out.request = text(pick(o, 'request'));
      out.uri = text(pick(o, 'uri'));
      out.status = text(pick(o, 'status'));
      const b = pick(o, 'bytes');
      if (b !== undefined) out.bytes = Number(b);
      const rt = pick(o, 'request_time');
      if (rt !== undefined) out.requestTime = typeof rt === 'number' ? rt : typeof rt === 'string' && rt !== '' && rt !== '-' ? Number(rt) : NaN;
      const ms = pick(o, 'msec');
      const msTime = ms === undefined ? NaN : jsonTime(ms);
      const t = Number.isNaN(msTime) ? pick(o, 'time') : undefined;
      if (!Number.isNaN(msTime)) out.time = msTime;
      else if (t !== undefined) {
        const ms = jsonTime(t);
        if (Number.isNaN(ms)) out.badTime = true;
        else out.time = ms;
      }
      return undefined;
    },
  };
}
