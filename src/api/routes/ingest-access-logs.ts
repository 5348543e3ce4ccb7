import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, bodiesBusy, internalError, invalidParameter, payloadTooLarge, storeUnavailable } from '../../contract/errors.js';
import { readArray, readSingle, readValue, type ParamSpec } from '../../contract/params.js';
import { parseRawQuery, rawSearch } from '../../contract/query.js';
import { schemaReason } from '../../contract/reasons.js';
import { conforms } from '../../contract/schema.js';
import { classifyStoreError } from '../../health/store-faults.js';
import { batchKey, BATCH_ID_PATTERN, type BatchLedger, type Claim } from '../../ingest/batch-ids.js';
import type { Deadline } from '../../ingest/deadline.js';
import { addCells, type CellBatch } from '../../ingest/cells.js';
import { FormatError } from '../../ingest/formats/log-format.js';
import { JSON_FIELDS, parseFieldOptions } from '../../ingest/formats/json-lines.js';
import { DROP_REASONS } from '../../ingest/formats/types.js';
import type { NameGate } from '../../ingest/name-limits.js';
import type { LineProcessor } from '../../ingest/processor.js';
import { createProcessor } from '../../ingest/setup.js';
import type { AppContext } from '../context.js';
import { projectOf } from '../project.js';
import { AUTHENTICATED_ERRORS, COUNT_SCHEMA, PROJECT_PARAMS } from '../spec/shared.js';
import type { RouteSpec } from '../spec/types.js';
import { commitDeadline, committedBy, namesBy, pendingBy, refuseWhileDegraded } from '../refused.js';
import { gateBody } from '../body-gate.js';
import { forEachLineInSlices } from '../slices.js';

export const INGEST_ACCESS_LOGS_PATH = '/ingest/v1/:project_id/access-logs';
const MAX_ERRORS = 20;

export const FORMAT_PARAM: ParamSpec = {
  name: 'format', in: 'query', kind: 'single',
  description: 'combined_host, combined_host_xff, combined, nginx_json, json, or an nginx log_format string as written in nginx.conf. ' +
    'Required, except that application/x-ndjson bodies default to json.',
  schema: { type: 'string', pattern: '\\S', examples: ['combined_host'] },
};
export const FIELD_PARAM: ParamSpec = {
  name: 'field', in: 'query', kind: 'repeated',
  description: `JSON lines: where a field is, NAME=PATH (NAME one of ${JSON_FIELDS.join(', ')}); repeatable.`,
  schema: { type: 'array', items: { type: 'string', pattern: `^(?:${JSON_FIELDS.join('|')})=.*\\S`, examples: ['ip=client.ip'] } },
};
export const BATCH_ID_HEADER: ParamSpec = {
  name: 'X-Batch-Id', in: 'header', kind: 'single', trim: true,
  description: 'Makes the request idempotent: a batch with an id already taken (for this project) is acknowledged with ' +
    '"duplicate": true and not counted again.',
  schema: { type: 'string', pattern: BATCH_ID_PATTERN.source, examples: ['2026-11-23T03:00-edge7'] },
};
export const CONTENT_ENCODING_HEADER: ParamSpec = {
  name: 'Content-Encoding', in: 'header', kind: 'single',
  description: 'gzip (or x-gzip) bodies are gunzipped; the gunzipped size is limited like the body. Case-insensitive.',
  schema: { type: 'string', enum: ['identity', 'gzip', 'x-gzip'] },
};

const lines = { type: 'string', description: 'Access log lines, one request per line' } as const;

export const INGEST_ACCESS_LOGS_SPEC: RouteSpec = {
  method: 'POST', url: INGEST_ACCESS_LOGS_PATH, operationId: 'IngestAccessLogs', tags: ['ingest'], security: 'credentials',
  summary: 'Count access-log lines',
  description: 'Answers once the counts are committed, with accepted/dropped counts and the first 20 malformed lines. ' +
    'Bad lines never fail the request; they are dropped and counted by reason. A store that does not answer within ' +
    '--ingest-commit-timeout-ms gets 503: nothing counted, or (a write already sent) maybe counted later: retry with the same X-Batch-Id.',
  parameters: [...PROJECT_PARAMS, FORMAT_PARAM, FIELD_PARAM, BATCH_ID_HEADER, CONTENT_ENCODING_HEADER],
  requestBody: {
    required: true,
    description: 'Log lines (text/plain) or JSON lines (application/x-ndjson), at most --max-body-bytes (also after gunzip)',
    content: { 'text/plain': { schema: lines }, 'application/x-ndjson': { schema: lines } },
  },
  responses: {
    200: {
      description: 'Committed (or a repeated X-Batch-Id: acknowledged, not counted again)',
      content: {
        'application/json': {
          schema: {
            type: 'object', additionalProperties: false, required: ['accepted', 'dropped', 'errors'],
            properties: {
              accepted: COUNT_SCHEMA,
              dropped: { type: 'object', propertyNames: { enum: [...DROP_REASONS] }, additionalProperties: COUNT_SCHEMA },
              errors: {
                type: 'array', maxItems: MAX_ERRORS,
                items: {
                  type: 'object', additionalProperties: false, required: ['line', 'reason'],
                  properties: { line: { type: 'integer', minimum: 1 }, reason: { type: 'string', enum: [...DROP_REASONS] } },
                },
              },
              duplicate: { const: true, description: 'Present when the X-Batch-Id was already taken' },
            },
          },
        },
      },
    },
  },
  errors: [...AUTHENTICATED_ERRORS, 'payloadTooLarge', 'storeUnavailable', 'busy'],
};

const gunzipAsync = promisify(gunzip);

/**
 * The body's bytes: gunzipped (in the thread pool) when Content-Encoding says so, never larger
 * than the limit. The gunzipped bytes are held too: they count against the in-flight budget
 * until the answer has gone (503 LIVE.100011007 when they do not fit).
 */
async function bodyBytes(request: FastifyRequest, reply: FastifyReply, ctx: AppContext, limit: number): Promise<Buffer> {
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const header = request.headers['content-encoding'];
  let encoding = String(header ?? 'identity').trim().toLowerCase();
  if (encoding === '') encoding = 'identity';
  if (!conforms(CONTENT_ENCODING_HEADER.schema, encoding)) {
    throw invalidParameter(CONTENT_ENCODING_HEADER.name, schemaReason(CONTENT_ENCODING_HEADER.schema, encoding));
  }
  if (encoding === 'identity') return body;
  let out: Buffer;
  try {
    out = await gunzipAsync(body, { maxOutputLength: limit });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) throw payloadTooLarge(limit);
    throw invalidParameter('body', 'Content-Encoding: gzip, but the body is not valid gzip data');
  }
  if (!ctx.bodies.take(out.length)) throw bodiesBusy();
  const held = out.length;
  if (reply.raw.writableFinished || reply.raw.destroyed) ctx.bodies.give(held);
  else reply.raw.once('close', () => ctx.bodies.give(held));
  return out;
}

function processorFor(request: FastifyRequest, ctx: AppContext, sink: (c: CellBatch) => void, names: NameGate | undefined): LineProcessor {
  const q = parseRawQuery(rawSearch(request.url));
  const type = String(request.headers['content-type'] ?? '').toLowerCase();
  const ndjson = type.startsWith('application/x-ndjson') || type.startsWith('application/jsonl');
  const given = readSingle(q, FORMAT_PARAM);
  if (given instanceof ApiError) throw given;
  const format = given ?? (ndjson ? 'json' : undefined);
  if (format === undefined) {
    throw invalidParameter(FORMAT_PARAM.name, 'required (a preset, json, or a log_format string), unless the body is application/x-ndjson');
  }
  const fields = readArray(q, FIELD_PARAM);
  if (fields instanceof ApiError) throw fields;
  try {
    return createProcessor({
      format, fields: parseFieldOptions(fields), retentionDays: ctx.ingest.retentionDays,
      geoOverridesFile: ctx.ingest.geoOverridesFile,
    }, sink, ctx.now, false, names);
  } catch (err) {
    if (err instanceof FormatError) throw invalidParameter(q.has('field') && !err.message.includes('format') ? 'field' : 'format', err.message);
    throw err;
  }
}

/**
 * The X-Batch-Id claim of `key` (none: 'new' at once), started now so that it runs beside other work.
 * `abandon()`: that work failed and the request ends without feeding the batch, so a key the claim
 * reserved is released (a retry of the id is then free), and a failed check is not left unhandled.
 */
export function claimAlongside(ledger: BatchLedger, key: string | undefined, deadline: Deadline): { claim: Promise<Claim>; abandon(): void } {
  if (key === undefined) return { claim: Promise.resolve({ state: 'new' }), abandon: () => undefined };
  const claim = ledger.claim(key, deadline);
  // Awaited by the caller after its other work; until then a failed check must not count as unhandled.
  claim.catch(() => undefined);
  return {
    claim,
    abandon: () => void claim.then((c) => {
      if (c.state === 'new') ledger.release(key);
    }, () => undefined),
  };
}

/**
 * POST /ingest/v1/{project_id}/access-logs?format=F: log lines (text/plain) or JSON lines
 * (application/x-ndjson), optionally gzipped. Answers once the counts are committed, with
 * accepted/dropped counts and the first 20 malformed lines. A repeated X-Batch-Id is
 * acknowledged with the same answer but not counted again. When the store refuses the write
 * the answer is 503 with Retry-After and nothing of the body is counted, ever.
 */
export function ingestAccessLogsRoute(app: FastifyInstance, ctx: AppContext): void {
  const ledger = ctx.batches;
  const limit = ctx.ingest.maxBodyBytes;
  app.post(INGEST_ACCESS_LOGS_PATH, { bodyLimit: limit, preParsing: gateBody(ctx, limit), config: { openapi: INGEST_ACCESS_LOGS_SPEC } }, async (request, reply) => {
    const project = await projectOf(ctx, request);
    // Answered before the connection's idle timeout, whatever the store does (see committedBy).
    const deadline = commitDeadline(ctx);
    const aggregator = ctx.aggregator;
    if (!aggregator) throw internalError();
    const batchId = readValue(request.headers['x-batch-id'], BATCH_ID_HEADER);
    if (batchId instanceof ApiError) throw batchId;
    refuseWhileDegraded(ctx);
    const cells: CellBatch[] = [];
    const names = await namesBy(ctx, project, deadline);
    const processor = processorFor(request, ctx, (c) => cells.push(c), names);
    const bytes = await bodyBytes(request, reply, ctx, limit);
    const errors: Array<{ line: number; reason: string }> = [];
    processor.fallbackTime = ctx.now();
    const key = batchId !== undefined ? batchKey(project, batchId) : undefined;
    // The X-Batch-Id check (a store read) runs while the body is parsed: one store round trip less before
    // the acknowledgement (issue 24). Its outcome is awaited after the parse, as before.
    const claiming = claimAlongside(ledger, key, deadline);
    try {
      // In slices: a 64 MiB body takes seconds of parsing, and the event loop answers others meanwhile.
      await forEachLineInSlices(bytes, (line, index) => {
        const reason = processor.process(line);
        if (reason !== undefined && errors.length < MAX_ERRORS) errors.push({ line: index + 1, reason });
      });
      processor.flushCells();
    } catch (err) {
      claiming.abandon();
      throw err;
    }
    const s = processor.stats;
    const answer = { accepted: s.accepted, dropped: s.dropped, errors };
    let claim: Claim = { state: 'new' };
    if (key !== undefined) {
      try {
        claim = await claiming.claim;
      } catch (err) {
        throw storeUnavailable(classifyStoreError(err));
      }
    }
    if (claim.state === 'new') ctx.metrics?.ingest.record('http', s);
    else ctx.metrics?.ingest.replayed();
    if (claim.state === 'committed') return { ...answer, duplicate: true };
    if (claim.state === 'pending') {
      // A retry while the first attempt is being committed: its outcome is ours.
      await pendingBy(claim.done, deadline);
      return { ...answer, duplicate: true };
    }
    if (cells.length === 0 && key === undefined) return answer;
    try {
      for (const c of cells) addCells(aggregator, project, c);
      if (key !== undefined) aggregator.checkpoint(key, JSON.stringify({ accepted: s.accepted, at: ctx.now() }), project);
    } catch (err) {
      if (key !== undefined) ledger.release(key);
      throw err;
    }
    // Answer only once committed; refused (store fault) means none of it is or will be counted.
    // Only this project's part counts: another tenant's rejected data never refuses this request.
    const done = aggregator.commit(project);
    if (key !== undefined) ledger.track(key, done);
    await committedBy(ctx, done, deadline);
    return answer;
  });
}
