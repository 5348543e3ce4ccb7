import fc from 'fast-check';
import { parseCarouselQuery } from '../../../src/contract/carousel.js';
import { ApiError } from '../../../src/contract/errors.js';
import { parseHttpCodesQuery } from '../../../src/contract/httpcodes.js';
import { parseRawQuery } from '../../../src/contract/query.js';
import { formatUtcSecond } from '../../../src/contract/time.js';
import { ISPS, REGIONS } from '../../../src/contract/values.js';
import { hostArb, NOW } from '../model/values.js';
import { applyMutations, mutationsArb } from '../mutate.js';
import { accepted, dropped, wrong, type FuzzTarget, type Verdict } from '../target.js';

const MIN = 60_000;
const PARAMS = ['play_domains', 'code', 'region', 'isp', 'start_time', 'end_time', 'carousel_task_id'];

/** The fault a generated query carries on purpose, and the parameter the answer must name. */
type Fault = 'none' | 'code' | 'region' | 'isp' | 'start_format' | 'end_before' | 'span' | 'too_old' | 'domains' | 'task';

interface QueryInput {
  domains: Array<{ logged: string; domain: string }>;
  repeatKeys: boolean;
  codes: number[];
  regions: string[];
  isps: string[];
  /** Start, minutes before NOW; span in seconds. */
  startAgo: number;
  spanSec: number;
  giveStart: boolean;
  giveEnd: boolean;
  task: string;
  encode: 'all' | 'minimal' | 'plus';
  extra: Array<[string, string]>;
  fault: Fault;
  edits: Parameters<typeof applyMutations>[1] | null;
}

const inputArb: fc.Arbitrary<QueryInput> = fc.record({
  domains: fc.array(hostArb.map((h) => ({ logged: h.logged.replace(/:\d+$/, ''), domain: h.domain })), { minLength: 1, maxLength: 10 }),
  repeatKeys: fc.boolean(),
  codes: fc.uniqueArray(fc.integer({ min: 100, max: 599 }), { maxLength: 5 }),
  regions: fc.uniqueArray(fc.constantFrom(...REGIONS), { maxLength: 4 }),
  isps: fc.uniqueArray(fc.constantFrom(...ISPS), { maxLength: 2 }),
  startAgo: fc.integer({ min: 1, max: 7 * 24 * 60 - 5 }),
  spanSec: fc.integer({ min: 1, max: 3 * 3600 }),
  giveStart: fc.boolean(),
  giveEnd: fc.boolean(),
  task: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._~:@-]{0,20}$/),
  encode: fc.constantFrom('all' as const, 'minimal' as const, 'plus' as const),
  extra: fc.array(fc.tuple(fc.string({ maxLength: 5 }).map((k) => `x${k}`), fc.string({ maxLength: 8 })), { maxLength: 2 }),
  fault: fc.oneof({ weight: 6, arbitrary: fc.constant('none' as const) }, {
    weight: 4, arbitrary: fc.constantFrom('code' as const, 'region' as const, 'isp' as const, 'start_format' as const, 'end_before' as const, 'span' as const, 'too_old' as const, 'domains' as const, 'task' as const),
  }),
  edits: fc.option(mutationsArb, { freq: 2 }),
});

const enc = (how: QueryInput['encode'], s: string): string =>
  how === 'minimal' ? s.replace(/[%&=+#\s]/g, (c) => encodeURIComponent(c)) : how === 'plus' ? encodeURIComponent(s).replace(/%20/g, '+') : encodeURIComponent(s);

interface Window {
  start: number;
  end: number;
}

function windowOf(q: QueryInput): Window {
  const start = NOW - q.startAgo * MIN;
  return { start, end: start + q.spanSec * 1000 };
}

function render(q: QueryInput, carousel: boolean): string {
  const pairs: Array<[string, string]> = [];
  const f = q.fault;
  if (!carousel) {
    const doms = f === 'domains' ? [...q.domains.map((d) => d.logged), ...Array.from({ length: 11 }, (_, i) => `extra${i}.com`)] : q.domains.map((d) => d.logged);
    if (q.repeatKeys) for (const d of doms) pairs.push(['play_domains', d]);
    else pairs.push(['play_domains', doms.join(',')]);
    const codes = f === 'code' ? [...q.codes.map(String), '600'] : q.codes.map(String);
    if (codes.length) pairs.push(['code', codes.join(',')]);
    const regions = f === 'region' ? [...q.regions, 'gd'] : q.regions;
    if (regions.length) pairs.push(['region', regions.join(',')]);
    const isps = f === 'isp' ? [...q.isps, 'cmcc'] : q.isps;
    if (isps.length) pairs.push(['isp', isps.join(',')]);
  } else {
    pairs.push(['carousel_task_id', f === 'task' ? `-${q.task}` : q.task]);
  }
  const w = windowOf(q);
  if (f === 'start_format') pairs.push(['start_time', formatUtcSecond(w.start).replace('Z', '+08:00')]);
  else if (f === 'span') pairs.push(['start_time', formatUtcSecond(w.end - 25 * 3600_000)], ['end_time', formatUtcSecond(w.end)]);
  else if (f === 'end_before') pairs.push(['start_time', formatUtcSecond(w.start)], ['end_time', formatUtcSecond(w.start)]);
  else if (f === 'too_old') pairs.push(['start_time', formatUtcSecond(NOW - 8 * 24 * 3600_000)], ['end_time', formatUtcSecond(NOW - 8 * 24 * 3600_000 + 60_000)]);
  else {
    if (q.giveStart && q.giveEnd) pairs.push(['start_time', formatUtcSecond(w.start)], ['end_time', formatUtcSecond(w.end)]);
    else if (q.giveStart) pairs.push(['start_time', formatUtcSecond(w.start)]);
    else if (q.giveEnd) pairs.push(['end_time', formatUtcSecond(w.end)]);
  }
  for (const [k, v] of q.extra) pairs.push([k, v]);
  return pairs.map(([k, v]) => `${enc(q.encode, k)}=${enc(q.encode, v)}`).join('&');
}

/** The window rules of the contract (README, "Contract decisions"), as the model states them. */
function windowParam(q: QueryInput, carousel: boolean): string | undefined {
  const maxSpan = (carousel ? 3 : 24) * 3600_000;
  const w = windowOf(q);
  const end = q.giveEnd ? w.end : NOW;
  const start = q.giveStart ? w.start : end - 3600_000;
  if (end <= start) return q.giveEnd ? 'end_time' : 'start_time';
  if (end - start > maxSpan) return q.giveStart ? 'start_time' : 'end_time';
  if (NOW - start > 7 * 24 * 3600_000) return q.giveStart ? 'start_time' : 'end_time';
  return undefined;
}

/** The parameter an answer must name for the query's fault (undefined: the query is valid). */
function expectedParam(q: QueryInput, carousel: boolean): string | undefined {
  switch (q.fault) {
    case 'domains': case 'code': case 'region': case 'isp': if (!carousel) return q.fault === 'domains' ? 'play_domains' : q.fault; break;
    case 'task': if (carousel) return 'carousel_task_id'; break;
    case 'start_format': case 'span': case 'too_old': return 'start_time';
    case 'end_before': return 'end_time';
    default: break;
  }
  return windowParam(q, carousel);
}

function judgeError(e: ApiError): Verdict {
  const m = /^Invalid request parameter: (.+)$/.exec(e.body.error_msg);
  if (e.status !== 400 || e.body.error_code !== 'LIVE.100011001' || !m || !PARAMS.includes(m[1] as string)) {
    return dropped(`unexpected error ${e.status} ${JSON.stringify(e.body)}`);
  }
  return dropped(`invalid:${m[1]}`);
}

/** The contract's query parsing for both endpoints: raw query string -> validated query or the 400 naming the parameter. */
export function queryTarget(): FuzzTarget<QueryInput> {
  return {
    name: 'query',
    title: 'contract query parsing of both endpoints (repeated/comma arrays, encodings, windows, every parameter fault)',
    arbitrary: inputArb,
    reasons: PARAMS.map((p) => `invalid:${p}`),
    limitMs: 1000,
    run(q): Verdict {
      let first: Verdict | undefined;
      for (const carousel of [false, true]) {
        const raw = q.edits ? applyMutations(render(q, carousel), q.edits) : render(q, carousel);
        const parsed = parseRawQuery(raw);
        const r = carousel ? parseCarouselQuery(parsed, NOW) : parseHttpCodesQuery(parsed, NOW);
        const v = r instanceof ApiError ? judgeError(r) : accepted;
        if (!q.edits) {
          const want = expectedParam(q, carousel);
          const got = v.outcome === 'dropped' ? v.reason : undefined;
          if (got !== (want === undefined ? undefined : `invalid:${want}`)) {
            return wrong(`${carousel ? 'carousel' : 'httpcodes'} ${JSON.stringify(raw)}: expected ${want ?? 'accepted'}, got ${got ?? 'accepted'}`);
          }
          if (!carousel && !(r instanceof ApiError) && 'domains' in r) {
            const domains = [...new Set(q.domains.map((d) => d.domain))].sort();
            if (JSON.stringify(r.domains) !== JSON.stringify(domains)) return wrong(`domains ${JSON.stringify(r.domains)}, expected ${JSON.stringify(domains)}`);
            if (JSON.stringify(r.codes) !== JSON.stringify([...q.codes].sort((a, b) => a - b))) return wrong(`codes ${JSON.stringify(r.codes)}`);
          }
        }
        first ??= v;
      }
      return first ?? accepted;
    },
  };
}

