import { gunzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { internalError, invalidParameter, payloadTooLarge } from '../../contract/errors.js';
import { parseRawQuery, rawSearch } from '../../contract/query.js';
import { batchKey, isBatchId } from '../../ingest/batch-ids.js';
import { addCells, type CellBatch } from '../../ingest/cells.js';
import { FormatError } from '../../ingest/formats/log-format.js';
import { parseFieldOptions } from '../../ingest/formats/json-lines.js';
import { forEachLine } from '../../ingest/lines.js';
import type { LineProcessor } from '../../ingest/processor.js';
import { createProcessor } from '../../ingest/setup.js';
import type { AppContext } from '../context.js';
import { projectOf } from '../project.js';

export const INGEST_ACCESS_LOGS_PATH = '/ingest/v1/:project_id/access-logs';
const MAX_ERRORS = 20;

/** The body as text: gunzipped when Content-Encoding says so, never larger than the limit. */
function bodyText(request: FastifyRequest, limit: number): string {
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const encoding = String(request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return body.toString('utf8');
  if (encoding !== 'gzip' && encoding !== 'x-gzip') throw invalidParameter('Content-Encoding');
  try {
    return gunzipSync(body, { maxOutputLength: limit }).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) throw payloadTooLarge(limit);
    throw invalidParameter('body');
  }
}

function processorFor(request: FastifyRequest, ctx: AppContext, sink: (c: CellBatch) => void): LineProcessor {
  const q = parseRawQuery(rawSearch(request.url));
  const type = String(request.headers['content-type'] ?? '').toLowerCase();
  const ndjson = type.startsWith('application/x-ndjson') || type.startsWith('application/jsonl');
  const format = q.get('format')?.[0] ?? (ndjson ? 'json' : undefined);
  if (format === undefined || format.trim() === '') throw invalidParameter('format');
  try {
    return createProcessor({
      format, fields: parseFieldOptions((q.get('field') ?? []).filter((f): f is string => f !== null)), retentionDays: ctx.ingest.retentionDays,
      geoOverridesFile: ctx.ingest.geoOverridesFile,
    }, sink, ctx.now);
  } catch (err) {
    if (err instanceof FormatError) throw invalidParameter(q.has('field') && !err.message.includes('format') ? 'field' : 'format');
    throw err;
  }
}

/**
 * POST /ingest/v1/{project_id}/access-logs?format=F: log lines (text/plain) or JSON lines
 * (application/x-ndjson), optionally gzipped. Answers once the counts are committed, with
 * accepted/dropped counts and the first 20 malformed lines. A repeated X-Batch-Id is
 * acknowledged with the same answer but not counted again.
 */
export function ingestAccessLogsRoute(app: FastifyInstance, ctx: AppContext): void {
  const ledger = ctx.batches;
  app.post(INGEST_ACCESS_LOGS_PATH, { bodyLimit: ctx.ingest.maxBodyBytes }, async (request) => {
    const project = await projectOf(ctx, request);
    const aggregator = ctx.aggregator;
    if (!aggregator) throw internalError();
    const batchHeader = request.headers['x-batch-id'];
    const batchId = typeof batchHeader === 'string' ? batchHeader.trim() : undefined;
    if (batchHeader !== undefined && (batchId === undefined || !isBatchId(batchId))) throw invalidParameter('X-Batch-Id');
    const cells: CellBatch[] = [];
    const processor = processorFor(request, ctx, (c) => cells.push(c));
    const text = bodyText(request, ctx.ingest.maxBodyBytes);
    const errors: Array<{ line: number; reason: string }> = [];
    processor.fallbackTime = ctx.now();
    forEachLine(text, (line, index) => {
      const reason = processor.process(line);
      if (reason !== undefined && errors.length < MAX_ERRORS) errors.push({ line: index + 1, reason });
    });
    processor.flushCells();
    const s = processor.stats;
    const answer = { accepted: s.accepted, dropped: s.dropped, errors };
    const key = batchId !== undefined ? batchKey(project, batchId) : undefined;
    const claim = key !== undefined ? await ledger.claim(key) : 'new';
    if (claim === 'new') {
      try {
        for (const c of cells) addCells(aggregator, project, c);
        if (key !== undefined) aggregator.checkpoint(key, JSON.stringify({ accepted: s.accepted, at: ctx.now() }));
      } catch (err) {
        if (key !== undefined) ledger.release(key);
        throw err;
      }
    }
    if (claim !== 'committed') {
      // Answer only once committed (a retry of a batch still pending waits for that batch's commit).
      try {
        await aggregator.flush();
      } catch (err) {
        // The batch stays queued in the aggregator and is retried; its id stays claimed until
        // that write lands (the ledger drops the mark then), so a retry answers once committed.
        request.log.error({ err }, 'ingest commit failed');
        throw internalError();
      }
    }
    return claim === 'new' ? answer : { ...answer, duplicate: true };
  });
}
