import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { TASK_ID_SCHEMA } from '../../contract/carousel.js';
import { ApiError, carouselTaskLimit } from '../../contract/errors.js';
import { present, readValue, type ParamSpec } from '../../contract/params.js';
import { MAX_SAMPLES_PER_REQUEST, SAMPLES_BODY_SCHEMA, validateSamples, type SampleValidation } from '../../ingest/samples.js';
import { gateBody } from '../body-gate.js';
import { parseJsonArrayInSlices } from '../slices.js';
import type { AppContext } from '../context.js';
import { projectOf } from '../project.js';
import { AUTHENTICATED_ERRORS, COUNT_SCHEMA, PROJECT_PARAMS } from '../spec/shared.js';
import type { RouteSpec } from '../spec/types.js';
import { commitDeadline, committedBy, namesBy, refuseWhileDegraded } from '../refused.js';

export const INGEST_SAMPLES_PATH = '/ingest/v1/:project_id/carousel-tasks/:task_id/samples';

export const TASK_ID_PATH_PARAM: ParamSpec = {
  name: 'task_id', in: 'path', kind: 'single', required: true,
  description: 'The carousel task (created by its first sample); percent-encode ":" and "@" if your client needs to.',
  schema: TASK_ID_SCHEMA,
};

export const INGEST_SAMPLES_SPEC: RouteSpec = {
  method: 'POST', url: INGEST_SAMPLES_PATH, operationId: 'IngestCarouselSamples', tags: ['ingest'], security: 'credentials',
  summary: 'Store per-second telemetry of a carousel task',
  description: 'Valid samples are stored even when others in the same request are rejected; the answer lists each ' +
    'rejection with its index and reason, and is sent once the samples are committed. A request whose samples are all ' +
    'rejected is a 400 naming the first.',
  parameters: [...PROJECT_PARAMS, TASK_ID_PATH_PARAM],
  requestBody: { required: true, description: 'A JSON array of samples', content: { 'application/json': { schema: SAMPLES_BODY_SCHEMA } } },
  responses: {
    200: {
      description: 'Stored',
      content: {
        'application/json': {
          schema: {
            type: 'object', additionalProperties: false, required: ['accepted', 'rejected'],
            properties: {
              accepted: COUNT_SCHEMA,
              rejected: {
                type: 'array',
                items: {
                  type: 'object', additionalProperties: false, required: ['index', 'reason'],
                  properties: { index: COUNT_SCHEMA, reason: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
  },
  errors: [...AUTHENTICATED_ERRORS, 'payloadTooLarge', 'storeUnavailable', 'busy'],
};

const badBody = (why: string): ApiError => {
  const e = new ApiError('invalidParameter', `Invalid request parameter: body (${why})`);
  e.reason = why;
  return e;
};

/**
 * Largest samples body, bytes: MAX_SAMPLES_PER_REQUEST samples of at most 512 bytes each (a
 * full sample is about 120 bytes, pretty-printed about 150); checked before a byte is parsed.
 */
export const MAX_SAMPLES_BODY_BYTES = MAX_SAMPLES_PER_REQUEST * 512;

/** Samples validated per slice (between two yields to the event loop). */
const VALIDATE_SLICE = 256;

/** Decodes the raw body into the posted array (in slices), or throws a 400 saying what is wrong with it. */
async function decodeBody(body: unknown): Promise<unknown[]> {
  if (!Buffer.isBuffer(body) || body.length === 0) throw badBody('expected a JSON array of samples');
  const parsed = await parseJsonArrayInSlices(body.toString('utf8'), MAX_SAMPLES_PER_REQUEST);
  if (parsed.ok) return parsed.items;
  if (parsed.why === 'too-many') throw badBody(`too many samples: at most ${MAX_SAMPLES_PER_REQUEST} per request`);
  if (parsed.why === 'invalid') throw badBody('not valid JSON');
  // Not an array: say so when it is valid JSON (the body is small: within MAX_SAMPLES_BODY_BYTES).
  try {
    JSON.parse(body.toString('utf8'));
  } catch {
    throw badBody('not valid JSON');
  }
  throw badBody('expected a JSON array of samples');
}

/** validateSamples over the items, a slice at a time. */
async function validateInSlices(items: readonly unknown[], now: number): Promise<SampleValidation> {
  const out: SampleValidation = { samples: [], rejected: [] };
  for (let k = 0; k < items.length; k += VALIDATE_SLICE) {
    const part = validateSamples(items.slice(k, k + VALIDATE_SLICE), now);
    out.samples.push(...part.samples);
    for (const r of part.rejected) out.rejected.push({ ...r, index: r.index + k });
    if (k + VALIDATE_SLICE < items.length) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return out;
}

/**
 * POST /ingest/v1/{project_id}/carousel-tasks/{task_id}/samples: per-second telemetry of
 * one carousel task. Valid samples are stored (latest per second wins) even when others
 * in the same request are rejected; the answer lists each rejection with its index.
 * The reply is sent only after the samples are committed to the store (503 when it refuses them).
 */
export function ingestSamplesRoute(app: FastifyInstance, ctx: AppContext): void {
  const limit = Math.min(ctx.ingest.maxBodyBytes, MAX_SAMPLES_BODY_BYTES);
  app.post(INGEST_SAMPLES_PATH, { bodyLimit: limit, preParsing: gateBody(ctx, limit), config: { openapi: INGEST_SAMPLES_SPEC } }, async (request) => {
    const project = await projectOf(ctx, request);
    const deadline = commitDeadline(ctx);
    const taskId = present(readValue((request.params as { task_id?: string }).task_id, TASK_ID_PATH_PARAM), TASK_ID_PATH_PARAM);
    if (taskId instanceof ApiError) throw taskId;
    refuseWhileDegraded(ctx);
    const items = await decodeBody(request.body);
    const { samples, rejected } = await validateInSlices(items, ctx.now());
    if (samples.length === 0 && rejected.length > 0) {
      const first = rejected[0] as { index: number; reason: string };
      throw badBody(`all ${rejected.length} samples rejected; first: [${first.index}] ${first.reason}`);
    }
    if (samples.length > 0 && ctx.names) {
      const names = await namesBy(ctx, project, deadline);
      if (names && !names.task(taskId)) throw carouselTaskLimit(ctx.names.caps.maxCarouselTasks);
    }
    if (samples.length > 0) {
      const rows = samples.map((s) => ({ ...s, project, taskId }));
      if (ctx.aggregator) {
        ctx.aggregator.registerTask(project, taskId);
        for (const row of rows) ctx.aggregator.addSample(row);
        await committedBy(ctx, ctx.aggregator.commit(project), deadline, 'samples');
      } else {
        await ctx.store.write({ id: randomUUID(), counts: [], samples: rows, tasks: [{ project, taskId }], checkpoints: [] });
      }
    }
    return { accepted: samples.length, rejected };
  });
}
