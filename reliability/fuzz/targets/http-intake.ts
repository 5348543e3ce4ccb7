import { Agent, request } from 'node:http';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { forEachLine } from '../../../src/ingest/lines.js';
import { DROP_REASONS } from '../../../src/ingest/formats/types.js';
import { PRESET_SEGS, recordArb, renderLine, type LogRecord } from '../model/access.js';
import { NOW } from '../model/values.js';
import { applyMutations, mutationsArb } from '../mutate.js';
import { accepted, dropped, wrong, type FuzzTarget, type Verdict } from '../target.js';

/** Where the server under fuzz is, and the credential of its project. */
export interface IntakeServer {
  url: string;
  project: string;
  token: string;
}

type Format = { kind: 'preset'; name: keyof typeof PRESET_SEGS } | { kind: 'json' } | { kind: 'log_format' } | { kind: 'bogus'; text: string };

interface IntakeInput {
  format: Format;
  records: LogRecord[];
  lineEdits: Array<Parameters<typeof applyMutations>[1] | null>;
  bodyEdits: Parameters<typeof applyMutations>[1] | null;
  encoding: 'identity' | 'gzip' | 'gzip-corrupt' | 'bogus' | 'none';
  contentType: 'text/plain' | 'application/x-ndjson' | 'application/json' | 'none' | 'garbage';
  formatIn: 'query' | 'content-type';
  batch: 'none' | 'fresh' | 'retry' | 'invalid';
  batchText: string;
  auth: 'token' | 'bad-token' | 'none' | 'other-project';
  crlf: boolean;
}

const inputArb: fc.Arbitrary<IntakeInput> = fc.record({
  format: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('combined' as const, 'combined_host' as const, 'nginx_json' as const).map((name): Format => ({ kind: 'preset', name })) },
    { weight: 2, arbitrary: fc.constant<Format>({ kind: 'json' }) },
    { weight: 2, arbitrary: fc.constant<Format>({ kind: 'log_format' }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((text): Format => ({ kind: 'bogus', text })) },
  ),
  records: fc.array(recordArb, { minLength: 0, maxLength: 12 }),
  lineEdits: fc.array(fc.option(mutationsArb, { freq: 3 }), { minLength: 12, maxLength: 12 }),
  bodyEdits: fc.option(mutationsArb, { freq: 8 }),
  encoding: fc.oneof({ weight: 8, arbitrary: fc.constant('identity' as const) }, { weight: 4, arbitrary: fc.constantFrom('gzip' as const, 'none' as const) }, { weight: 1, arbitrary: fc.constantFrom('gzip-corrupt' as const, 'bogus' as const) }),
  contentType: fc.constantFrom('text/plain' as const, 'application/x-ndjson' as const, 'application/json' as const, 'none' as const, 'garbage' as const),
  formatIn: fc.oneof({ weight: 5, arbitrary: fc.constant('query' as const) }, { weight: 1, arbitrary: fc.constant('content-type' as const) }),
  batch: fc.oneof({ weight: 4, arbitrary: fc.constant('none' as const) }, { weight: 3, arbitrary: fc.constant('fresh' as const) }, { weight: 2, arbitrary: fc.constant('retry' as const) }, { weight: 1, arbitrary: fc.constant('invalid' as const) }),
  batchText: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 20 }),
  auth: fc.oneof({ weight: 12, arbitrary: fc.constant('token' as const) }, { weight: 1, arbitrary: fc.constantFrom('bad-token' as const, 'none' as const, 'other-project' as const) }),
  crlf: fc.boolean(),
});

/** The (status, error_code) pairs the intake may answer with; anything else is a defect. */
const ANSWERS = ['200', '200:duplicate', '400:LIVE.100011001', '401:LIVE.100011002', '401:LIVE.100011015', '404:APIGW.0101', '413:LIVE.100011001'];

interface Response {
  status: number;
  body: string;
  requestId: string | undefined;
}

function post(agent: Agent, base: URL, path: string, headers: Record<string, string>, body: Buffer): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: base.hostname, port: base.port, method: 'POST', path, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), requestId: res.headers['x-request-id'] as string | undefined }));
      res.on('error', reject);
    });
    req.setTimeout(20_000, () => req.destroy(new Error('no answer in 20 s')));
    req.on('error', reject);
    req.end(body);
  });
}

function lineFor(i: IntakeInput, r: LogRecord, shift: number): string {
  const rec = { ...r, time: r.time + shift };
  if (i.format.kind === 'preset') return renderLine(PRESET_SEGS[i.format.name].segs, rec, PRESET_SEGS[i.format.name].mode);
  if (i.format.kind === 'json') return JSON.stringify({ remote_addr: rec.ip, time: new Date(rec.time).toISOString(), host: rec.host.logged, status: rec.status });
  return renderLine(PRESET_SEGS.combined_host.segs, rec, 'default');
}

/** Totals the fuzz client saw acknowledged, to check the store against at the end. */
export interface IntakeLedger {
  /** Lines acknowledged as counted (new batches only). */
  accepted: number;
  requests: number;
  duplicates: number;
}

/**
 * The HTTP intake end to end: a real `livestats serve` over a socket, sent log batches in every
 * format with edited lines and bodies, gzip (also corrupt), content types, X-Batch-Id retries and
 * bad credentials. Every answer must be the contract's (200 with consistent counts, or a 4xx
 * envelope); a 5xx, a dropped connection or no answer within the limit is a failure.
 */
export function httpIntakeTarget(server: IntakeServer, ledger: IntakeLedger, lanes = 16): FuzzTarget<IntakeInput> {
  const base = new URL(server.url);
  // A timeout of its own, so Node honours the server's Keep-Alive hint (see reliability/soak/http.ts).
  const agent = new Agent({ keepAlive: true, maxSockets: lanes, timeout: 60_000 });
  const shift = Math.floor((Date.now() - NOW) / 60_000) * 60_000;
  const instance = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  let counter = 0;
  /** The last acknowledged batches by id: a retry re-sends one exactly and must get its answer back. */
  const sent: Array<{ path: string; headers: Record<string, string>; body: Buffer; answer: Record<string, unknown> }> = [];
  return {
    name: 'http_intake',
    title: 'HTTP intake end to end (real server process over a socket): formats, edited lines and bodies, gzip, content types, batch-id retries, credentials',
    arbitrary: inputArb,
    reasons: ANSWERS,
    limitMs: 20_000,
    async run(i): Promise<Verdict> {
      ledger.requests++;
      if (i.batch === 'retry' && sent.length > 0) {
        const prev = sent[counter % sent.length] as (typeof sent)[number];
        counter++;
        const res = await post(agent, base, prev.path, prev.headers, prev.body);
        if (res.status !== 200) return wrong(`retry of an acknowledged batch answered ${res.status} ${res.body}`);
        const body = JSON.parse(res.body) as Record<string, unknown>;
        if (body.duplicate !== true || body.accepted !== prev.answer.accepted) return wrong(`retry answered ${res.body}, first answer ${JSON.stringify(prev.answer)}`);
        ledger.duplicates++;
        return dropped('200:duplicate');
      }
      const lines = i.records.map((r, k) => {
        const line = lineFor(i, r, shift);
        const e = i.lineEdits[k];
        return e ? applyMutations(line, e) : line;
      });
      let text = lines.join(i.crlf ? '\r\n' : '\n');
      if (i.bodyEdits) text = applyMutations(text, i.bodyEdits);
      const raw = Buffer.from(text, 'utf8');
      const body = i.encoding === 'gzip' ? gzipSync(raw) : i.encoding === 'gzip-corrupt' ? Buffer.concat([gzipSync(raw).subarray(0, 12), raw]) : raw;
      const headers: Record<string, string> = {};
      if (i.encoding === 'gzip' || i.encoding === 'gzip-corrupt') headers['content-encoding'] = 'gzip';
      if (i.encoding === 'bogus') headers['content-encoding'] = 'br';
      if (i.encoding === 'identity') headers['content-encoding'] = 'identity';
      const ct = i.formatIn === 'content-type' && i.format.kind === 'json' ? 'application/x-ndjson' : i.contentType;
      if (ct !== 'none') headers['content-type'] = ct === 'garbage' ? 'x/y; charset=nonsense' : ct;
      if (i.auth === 'token' || i.auth === 'other-project') headers['x-auth-token'] = server.token;
      if (i.auth === 'bad-token') headers['x-auth-token'] = `${server.token.slice(0, -2)}xx`;
      let batchId: string | undefined;
      if (i.batch === 'fresh' || i.batch === 'retry') batchId = `${instance}-${counter++}`;
      if (batchId !== undefined) headers['x-batch-id'] = batchId;
      if (i.batch === 'invalid') headers['x-batch-id'] = `bad id!${i.batchText.replace(/[^\x21-\x7e]/g, '')}`;
      const format = i.format.kind === 'preset' ? i.format.name : i.format.kind === 'json' ? 'json' : i.format.kind === 'log_format' ? PRESET_CONF : i.format.text;
      const project = i.auth === 'other-project' ? 'someone-else' : server.project;
      const query = i.formatIn === 'content-type' && i.format.kind === 'json' ? '' : `?format=${encodeURIComponent(format)}`;
      const path = `/ingest/v1/${project}/access-logs${query}`;
      const res = await post(agent, base, path, headers, body);
      if (!res.requestId) return wrong(`answer without X-Request-Id: ${res.status} ${res.body}`);
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(res.body) as Record<string, unknown>;
      } catch {
        return wrong(`answer is not JSON: ${res.status} ${res.body.slice(0, 200)}`);
      }
      if (res.status !== 200) {
        const key = `${res.status}:${String(parsed.error_code)}`;
        if (typeof parsed.error_msg !== 'string' || Object.keys(parsed).length !== 2) return wrong(`not the error envelope: ${res.body}`);
        const clean = i.auth === 'token' && i.encoding !== 'gzip-corrupt' && i.encoding !== 'bogus' && i.format.kind !== 'bogus' && i.batch !== 'invalid';
        if (clean && res.status !== 413) return wrong(`a well-formed batch was refused: ${res.status} ${res.body}`);
        return dropped(key);
      }
      const counts = parsed as { accepted?: unknown; dropped?: Record<string, number>; errors?: Array<{ line: number; reason: string }>; duplicate?: unknown };
      if (typeof counts.accepted !== 'number' || typeof counts.dropped !== 'object' || !Array.isArray(counts.errors)) return wrong(`200 without counts: ${res.body}`);
      const dropTotal = Object.entries(counts.dropped ?? {}).reduce((n, [k, v]) => (DROP_REASONS.includes(k as never) ? n + v : NaN), 0);
      let expectLines = 0;
      forEachLine(text, () => expectLines++);
      if (counts.accepted + dropTotal !== expectLines) return wrong(`accepted ${counts.accepted} + dropped ${dropTotal} != ${expectLines} lines sent`);
      if (counts.errors.length !== Math.min(20, dropTotal) || counts.errors.some((e) => !DROP_REASONS.includes(e.reason as never) || e.line < 1)) {
        return wrong(`errors list does not match the drops: ${res.body.slice(0, 300)}`);
      }
      if (counts.duplicate !== undefined) return wrong(`a new batch id was answered as a duplicate: ${res.body}`);
      ledger.accepted += counts.accepted;
      if (batchId !== undefined) {
        sent.push({ path, headers, body, answer: parsed });
        if (sent.length > 64) sent.shift();
      }
      return accepted;
    },
  };
}

/** A log_format directive as a user pastes it into the query (the combined_host layout). */
const PRESET_CONF = `log_format main '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $host';`;
