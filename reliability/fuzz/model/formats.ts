import fc from 'fast-check';
import type { Seg } from './access.js';
import type { EscapeMode } from './escape.js';

/** Variables a generated log_format may use; the first ones are free text and are always quoted. */
const QUOTED_VARS = ['request', 'http_referer', 'http_user_agent', 'http_x_forwarded_for'];
const PLAIN_VARS = [
  'remote_addr', 'remote_user', 'status', 'body_bytes_sent', 'bytes_sent', 'request_time', 'host', 'http_host', 'server_name',
  'request_id', 'connection', 'pipe', 'upstream_status', 'scheme',
];
const TIME_VARS = ['time_local', 'time_iso8601', 'msec'];
/** Separators between variables: none of their characters occurs in a plain variable's value. */
const SEPARATORS = [' ', ' - ', ' | ', '\t', ' ;', '|', '#', ' ^ ', ' [', '] ', ' ~ '];

/** A generated log_format: its segments, escape mode, and the nginx.conf text a user would paste. */
export interface GeneratedFormat {
  segs: Seg[];
  mode: EscapeMode;
  conf: string;
}

function merge(segs: Seg[]): Seg[] {
  const out: Seg[] = [];
  for (const s of segs) {
    const last = out[out.length - 1];
    if ('lit' in s && last && 'lit' in last) last.lit += s.lit;
    else if (!('lit' in s) || s.lit !== '') out.push({ ...s });
  }
  return out;
}

/** nginx.conf quoting: the format split into 1..3 quoted parts, maybe as a full log_format directive. */
function confText(text: string, mode: EscapeMode, style: number, cuts: readonly number[]): string {
  const q = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const parts: string[] = [];
  let prev = 0;
  for (const p of points) {
    if (p > prev) parts.push(text.slice(prev, p));
    prev = p;
  }
  parts.push(text.slice(prev));
  const quoted = parts.filter((p) => p !== '').map(q).join(style % 2 === 0 ? ' ' : '\n    ');
  const escape = mode === 'default' && style % 3 !== 0 ? '' : `escape=${mode} `;
  if (style % 4 === 0) return `log_format main ${escape}${quoted};`;
  return `${escape}${quoted}`;
}

export const formatArb: fc.Arbitrary<GeneratedFormat> = fc
  .record({
    vars: fc.uniqueArray(fc.constantFrom(...QUOTED_VARS, ...PLAIN_VARS), { minLength: 1, maxLength: 9 }),
    time: fc.option(fc.constantFrom(...TIME_VARS), { freq: 8 }),
    timeAt: fc.nat(),
    seps: fc.array(fc.constantFrom(...SEPARATORS), { minLength: 10, maxLength: 10 }),
    quoteMore: fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
    lead: fc.constantFrom('', '[', 'edge ', '"'),
    tail: fc.constantFrom('', ' end', ' "-"'),
    mode: fc.constantFrom('default' as const, 'json' as const, 'none' as const),
    style: fc.nat({ max: 11 }),
    cuts: fc.array(fc.nat(), { maxLength: 2 }),
  })
  .map(({ vars, time, timeAt, seps, quoteMore, lead, tail, mode, style, cuts }) => {
    const names = [...vars];
    if (time !== null) names.splice(timeAt % (names.length + 1), 0, time);
    const segs: Seg[] = [{ lit: lead }];
    names.forEach((name, i) => {
      const quoted = QUOTED_VARS.includes(name) || (quoteMore[i] === true && name !== 'time_local');
      if (i > 0) segs.push({ lit: seps[i] as string });
      if (quoted) segs.push({ lit: '"' });
      segs.push({ v: name });
      if (quoted) segs.push({ lit: '"' });
    });
    // A leading '"' must not turn into an unbalanced quote of the first variable.
    if (lead === '"') segs.splice(1, 0, { lit: '" ' });
    segs.push({ lit: tail });
    const merged = merge(segs);
    const text = merged.map((s) => ('lit' in s ? s.lit : `$${s.v}`)).join('');
    return { segs: merged, mode, conf: confText(text, mode, style, cuts) };
  });
