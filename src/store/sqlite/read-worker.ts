import { runAudienceRead, type AudienceRead } from './audience-reads.js';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { HttpCodesFilter, SampleFilter } from '../types.js';
import { giveSpare } from '../../contract/json-bytes.js';
import { httpCodesBody, samplesBody } from './bodies.js';
import type { TrafficFilter } from '../traffic.js';
import { readHttpCodes, readSamples } from './reads.js';
import type { DetailKind } from '../../contract/traffic/detail.js';
import { readTrafficByDomain, readTrafficDomains, readTrafficSeries, trafficDetailBody } from './traffic-reads.js';
import { lowerThreadPriority } from '../thread-priority.js';
import { runOriginRead, type OriginRead } from './origin.js';
import { readQuality } from './stream-quality.js';
import type { SeriesQuery } from '../../contract/origin/params.js';
import { seriesBody } from '../../contract/origin/series.js';
import type { QualityFilter } from '../stream-quality.js';
import { WORKER_CACHE_KIB } from './worker-memory.js';

/**
 * Messages to a read worker and its answers (typed arrays travel as transferred buffers). A job
 * may carry `spare`: a sent answer's buffer, given back for reuse.
 */
export type ReadRequest = { spare?: ArrayBuffer } & (
  | { id: number; kind: 'httpcodes'; filter: HttpCodesFilter }
  | { id: number; kind: 'samples'; filter: SampleFilter }
  | { id: number; kind: 'httpcodes-body'; filter: HttpCodesFilter; codes: readonly number[] }
  | { id: number; kind: 'samples-body'; filter: SampleFilter }
  | { id: number; kind: 'traffic-series'; filter: TrafficFilter }
  | { id: number; kind: 'traffic-by-domain'; filter: TrafficFilter }
  | { id: number; kind: 'traffic-domains'; project: string }
  | { id: number; kind: 'traffic-detail-body'; filter: TrafficFilter; detail: DetailKind }
  | { id: number; kind: 'origin'; read: OriginRead }
  | { id: number; kind: 'quality'; filter: QualityFilter }
  | { id: number; kind: 'quality-body'; filter: QualityFilter; query: SeriesQuery }
  | { id: number; kind: 'audience'; read: AudienceRead }
);

/** A request without its id (distributes over the union). */
export type ReadRequestBody = ReadRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

export type ReadReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; message: string };

export interface ReadWorkerData {
  file: string;
  /** Nice value this thread gives itself (`--query-thread-nice`). */
  nice: number;
}

if (parentPort) {
  const port = parentPort;
  // Below the main and write threads' priority (see thread-priority.ts).
  lowerThreadPriority((workerData as ReadWorkerData).nice);
  // A read-only connection on the WAL file: sees every committed write, never blocks the writer.
  const db = new Database((workerData as ReadWorkerData).file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${WORKER_CACHE_KIB}`);
  port.on('message', (req: ReadRequest) => {
    if (req.spare) giveSpare(req.spare);
    try {
      if (req.kind === 'httpcodes-body' || req.kind === 'samples-body') {
        // The answer's bytes are rendered here; the buffer is transferred, not copied.
        const body = req.kind === 'httpcodes-body' ? httpCodesBody(db, req.filter, req.codes) : samplesBody(db, req.filter);
        port.postMessage({ id: req.id, ok: true, result: body } satisfies ReadReply, [body.buffer as ArrayBuffer]);
      } else if (req.kind === 'quality-body') {
        const body = seriesBody(req.query, readQuality(db, req.filter));
        port.postMessage({ id: req.id, ok: true, result: body } satisfies ReadReply, [body.buffer as ArrayBuffer]);
      } else if (req.kind === 'traffic-detail-body') {
        const body = trafficDetailBody(db, req.filter, req.detail);
        port.postMessage({ id: req.id, ok: true, result: body } satisfies ReadReply, [body.buffer as ArrayBuffer]);
      } else if (req.kind === 'traffic-series') {
        const r = readTrafficSeries(db, req.filter);
        port.postMessage({ id: req.id, ok: true, result: r } satisfies ReadReply, [r.buffer as ArrayBuffer]);
      } else if (req.kind === 'traffic-by-domain') {
        const r = readTrafficByDomain(db, req.filter);
        port.postMessage({ id: req.id, ok: true, result: r } satisfies ReadReply, [r.series.buffer as ArrayBuffer]);
      } else if (req.kind === 'audience') {
        const result = runAudienceRead(db, req.read);
        // Rendered bodies and series travel as transferred buffers, not copies.
        const transfer = ArrayBuffer.isView(result) ? [result.buffer as ArrayBuffer] : [];
        port.postMessage({ id: req.id, ok: true, result } satisfies ReadReply, transfer);
      } else if (req.kind === 'traffic-domains') {
        port.postMessage({ id: req.id, ok: true, result: readTrafficDomains(db, req.project) } satisfies ReadReply);
      } else if (req.kind === 'quality') {
        port.postMessage({ id: req.id, ok: true, result: readQuality(db, req.filter) } satisfies ReadReply);
      } else if (req.kind === 'origin') {
        port.postMessage({ id: req.id, ok: true, result: runOriginRead(db, req.read) } satisfies ReadReply);
      } else if (req.kind === 'httpcodes') {
        const r = readHttpCodes(db, req.filter);
        port.postMessage({ id: req.id, ok: true, result: r } satisfies ReadReply, [r.codes.buffer as ArrayBuffer, r.counts.buffer as ArrayBuffer]);
      } else if (req.kind === 'samples') {
        const r = readSamples(db, req.filter);
        port.postMessage({ id: req.id, ok: true, result: r } satisfies ReadReply, [r.present.buffer as ArrayBuffer, r.values.buffer as ArrayBuffer]);
      }
    } catch (err) {
      port.postMessage({ id: req.id, ok: false, message: (err as Error).message } satisfies ReadReply);
    }
  });
}
