import fc from 'fast-check';
import { jsonLinesParser } from '../../../src/ingest/formats/json-lines.js';
import { recordArb, type LogRecord } from '../model/access.js';
import { DAY, NOW, timeIso, timeLocal } from '../model/values.js';
import { withMutations, type Variant } from '../mutate.js';
import type { FuzzTarget } from '../target.js';
import { LineBench, LINE_REASONS, type ExpectedCell } from './line-check.js';

/** A JSON object as Vector, Fluent Bit or nginx escape=json would ship it, with the field names varied. */
interface JsonLine {
  record: LogRecord;
  ipKey: string;
  timeKey: string;
  timeForm: 'iso' | 'z' | 'local' | 'sec' | 'ms' | 'secText' | 'msText';
  domainKey: string;
  statusKey: string;
  statusAsText: boolean;
  extra: Record<string, unknown>;
}

const lineArb: fc.Arbitrary<JsonLine> = fc.record({
  record: recordArb,
  ipKey: fc.constantFrom('remote_addr', 'client_ip', 'clientip', 'ip', 'client.ip', 'source.ip'),
  timeKey: fc.constantFrom('time_iso8601', 'time', 'timestamp', '@timestamp', 'ts'),
  timeForm: fc.constantFrom('iso' as const, 'z' as const, 'local' as const, 'sec' as const, 'ms' as const, 'secText' as const, 'msText' as const),
  domainKey: fc.constantFrom('host', 'http_host', 'domain', 'server_name', 'url.domain'),
  statusKey: fc.constantFrom('status', 'status_code', 'code', 'http.response.status_code'),
  statusAsText: fc.boolean(),
  extra: fc.dictionary(fc.string({ maxLength: 6 }).map((k) => `x_${k}`), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
});

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    const next = (cur[k] ??= {}) as Record<string, unknown>;
    cur = next;
  }
  cur[keys[keys.length - 1] as string] = value;
}

function effectiveTime(r: LogRecord): number {
  if (r.fault === 'old') return NOW - 9 * DAY;
  if (r.fault === 'future') return NOW + 3_600_000;
  return r.time;
}

function timeValue(j: JsonLine): unknown {
  const t = effectiveTime(j.record);
  if (j.record.fault === 'badtime') return '2026-02-30T10:00:00Z';
  switch (j.timeForm) {
    case 'iso': return timeIso(t, j.record.offset, 'offset');
    case 'z': return timeIso(t, 0, 'z');
    case 'local': return timeLocal(t, j.record.offset);
    case 'sec': return t / 1000;
    case 'ms': return t;
    case 'secText': return String(t / 1000);
    case 'msText': return String(t);
  }
}

function render(j: JsonLine): string {
  const r = j.record;
  const obj: Record<string, unknown> = { ...j.extra };
  setPath(obj, j.ipKey, r.ip);
  setPath(obj, j.timeKey, timeValue(j));
  if (r.fault !== 'nohost') setPath(obj, j.domainKey, r.host.logged);
  const status = r.fault === 'status' ? 'abc' : j.statusAsText ? String(r.status) : r.status;
  setPath(obj, j.statusKey, status);
  obj.request = `${r.method} ${r.path} HTTP/1.1`;
  return JSON.stringify(obj);
}

function expectation(j: JsonLine): { reason: string | undefined; cell?: ExpectedCell } {
  const r = j.record;
  const reason = r.fault === 'status' ? 'bad_status' : r.fault === 'badtime' ? 'bad_time' : r.fault === 'old' ? 'too_old'
    : r.fault === 'future' ? 'future' : r.fault === 'nohost' ? 'bad_domain' : undefined;
  return reason !== undefined ? { reason } : { reason, cell: { domain: r.host.domain, time: r.time, code: r.status } };
}

/** --format json: objects with the field names and time forms real shippers use. */
export function jsonLinesTarget(): FuzzTarget<Variant<JsonLine>> {
  let bench: LineBench | undefined;
  return {
    name: 'json_lines',
    title: '--format json lines (default field names, nested paths, every time form)',
    arbitrary: withMutations(lineArb, render),
    reasons: LINE_REASONS,
    limitMs: 1000,
    prepare() {
      bench ??= new LineBench(jsonLinesParser());
    },
    run(input) {
      bench ??= new LineBench(jsonLinesParser());
      return input.mutated ? bench.judge(input.text) : bench.judge(render(input.value), expectation(input.value));
    },
  };
}
