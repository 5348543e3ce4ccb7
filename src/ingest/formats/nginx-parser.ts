import { FormatError, type LogFormat } from './log-format.js';
import { CachedTime, parseEpochSeconds, parseIso8601, parseTimeLocal } from './times.js';
import type { DropReason, LineParser, ParsedLine } from './types.js';
import { unescapeDefault, unescapeJson } from './unescape.js';

/**
 * Number(v) for a byte count's text: 1 to 15 ASCII digits summed as they are (the same whole number,
 * exact below 2^53, without the string-to-number runtime call, a large part of a line's parse in a
 * --cpu-prof of the audience bench's ingest); any other text through Number itself.
 */
export function countOf(v: string): number {
  const n = v.length;
  if (n === 0 || n > 15) return Number(v);
  let x = 0;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return Number(v);
    x = x * 10 + c;
  }
  return x;
}

/** What the scanner does with one variable's text. */
const enum Role {
  Skip, RemoteAddr, ForwardedFor, TimeLocal, TimeIso, Msec, Status, Host, Request, Uri, Bytes, BodyBytes, RequestTime,
}

/** Host variables in order of preference: the first one logged is the domain. */
const HOST_VARS = ['host', 'http_host', 'server_name'];

const ROLES: Record<string, Role> = {
  remote_addr: Role.RemoteAddr, http_x_forwarded_for: Role.ForwardedFor, time_local: Role.TimeLocal,
  time_iso8601: Role.TimeIso, msec: Role.Msec, status: Role.Status, request: Role.Request,
  body_bytes_sent: Role.BodyBytes, bytes_sent: Role.Bytes, request_time: Role.RequestTime,
  request_uri: Role.Uri, uri: Role.Uri,
};

interface Step {
  role: Role;
  /** Literal expected before the variable ('' when none). */
  before: string;
  /** Literal that ends the variable ('' = end of line). */
  stop: string;
}

/**
 * Compiles a log_format into a list of steps: each reads one variable up to the literal that
 * follows it (found with indexOf, no regular expression per line) and stores it by role.
 * $time_local is read by its fixed width (it contains a space). Under escape=json a quote
 * preceded by an odd number of backslashes does not end a value.
 */
export function compileLogFormat(format: LogFormat, name = 'log_format'): LineParser {
  const vars = format.segments.filter((s) => s.kind === 'var').map((s) => s.name);
  const hostVar = HOST_VARS.find((v) => vars.includes(v));
  // $msec, when logged, is the line's time (millisecond precision: FLV session ends), wherever it stands.
  const hasMsec = vars.includes('msec');
  const steps: Step[] = [];
  let leading = '';
  const segs = format.segments;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    if (!s) continue;
    if (s.kind === 'literal') {
      if (i === 0) leading = s.text;
      continue;
    }
    const next = segs[i + 1];
    if (next && next.kind === 'var') {
      throw new FormatError(`$${s.name} and $${next.name} have nothing between them: cannot tell where one ends`);
    }
    let role = ROLES[s.name] ?? Role.Skip;
    if (s.name === hostVar) role = Role.Host;
    const prev = segs[i - 1];
    steps.push({ role, before: prev && prev.kind === 'literal' ? prev.text : '', stop: next ? next.text : '' });
  }
  const stepCount = steps.length;
  const roles = steps.map((s) => s.role);
  const stops = steps.map((s) => s.stop);
  const stopIsQuote = steps.map((s) => s.stop.startsWith('"'));
  const json = format.escape === 'json';
  const unescape = json ? unescapeJson : format.escape === 'default' ? unescapeDefault : (v: string): string => v;
  const timeLocal = new CachedTime(parseTimeLocal);
  const timeIso = new CachedTime(parseIso8601);

  function findStop(line: string, stop: string, from: number, quoted: boolean, role: Role): number {
    let end = line.indexOf(stop, from);
    if (json && quoted) {
      while (end > 0 && oddBackslashes(line, end)) end = line.indexOf(stop, end + 1);
    } else if (!quoted && stop.charCodeAt(0) === 32 && role !== Role.Status) {
      // Unquoted lists such as "$upstream_addr" may hold "a, b": a value ending in ',' goes on.
      while (end > from && line.charCodeAt(end - 1) === 44) end = line.indexOf(stop, end + 1);
    }
    return end;
  }

  return {
    name,
    encoding: 'latin1',
    parse(line: string, out: ParsedLine): DropReason | undefined {
      let pos = 0;
      if (leading) {
        if (!line.startsWith(leading)) return 'parse';
        pos = leading.length;
      }
      for (let i = 0; i < stepCount; i++) {
        const role = roles[i] as Role;
        const stop = stops[i] as string;
        let end: number;
        if (role === Role.TimeLocal) {
          end = pos + 26;
          if (end > line.length || (stop !== '' && !line.startsWith(stop, end))) return 'parse';
        } else if (stop === '') {
          end = line.length;
        } else {
          end = findStop(line, stop, pos, stopIsQuote[i] as boolean, role);
          if (end < 0) return 'parse';
        }
        if (role !== Role.Skip) {
          const v = line.slice(pos, end);
          if (!(v.length === 1 && v.charCodeAt(0) === 45)) store(out, role, v);
        }
        pos = end + stop.length;
      }
      if (pos !== line.length) return 'parse';
      return undefined;
    },
  };

  function store(out: ParsedLine, role: Role, v: string): void {
    switch (role) {
      case Role.RemoteAddr: out.remoteAddr = v; break;
      case Role.ForwardedFor: out.forwardedFor = unescape(v); break;
      case Role.TimeLocal: if (!hasMsec) setTime(out, timeLocal.parse(v)); break;
      case Role.TimeIso: if (!hasMsec) setTime(out, timeIso.parse(v)); break;
      case Role.Msec: setTime(out, parseEpochSeconds(v)); break;
      case Role.Status: out.status = v; break;
      case Role.Host: out.host = v.indexOf('\\') >= 0 ? unescape(v) : v; break;
      case Role.Request: out.request = unescape(v); break;
      case Role.Uri: out.uri = unescape(v); break;
      case Role.Bytes: out.bytes = countOf(v); break;
      case Role.BodyBytes: out.bodyBytes = countOf(v); break;
      case Role.RequestTime: out.requestTime = Number(v); break;
      default: break;
    }
  }
}

function setTime(out: ParsedLine, t: number): void {
  if (Number.isNaN(t)) out.badTime = true;
  else out.time = t;
}

function oddBackslashes(line: string, at: number): boolean {
  let n = 0;
  for (let j = at - 1; j >= 0 && line.charCodeAt(j) === 92; j--) n++;
  return (n & 1) === 1;
}
