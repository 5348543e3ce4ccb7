import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { isTaskId } from '../../contract/carousel.js';
import { ApiError, invalidParameter } from '../../contract/errors.js';
import { MAX_SAMPLES_PER_REQUEST, validateSamples } from '../../ingest/samples.js';
import type { AppContext } from '../context.js';
import { projectOf } from '../project.js';
import { refusedAs503, refuseWhileDegraded } from '../refused.js';

export const INGEST_SAMPLES_PATH = '/ingest/v1/:project_id/carousel-tasks/:task_id/samples';

const badBody = (why: string): ApiError => new ApiError('invalidParameter', `Invalid request parameter: body (${why})`);

/** Decodes the raw body into the posted array, or throws a 400 saying what is wrong with it. */
function decodeBody(body: unknown): unknown[] {
  if (!Buffer.isBuffer(body) || body.length === 0) throw badBody('expected a JSON array of samples');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw badBody('not valid JSON');
  }
  if (!Array.isArray(parsed)) throw badBody('expected a JSON array of samples');
  if (parsed.length > MAX_SAMPLES_PER_REQUEST) {
    throw badBody(`too many samples: at most ${MAX_SAMPLES_PER_REQUEST} per request`);
  }
  return parsed;
}

/**
 * POST /ingest/v1/{project_id}/carousel-tasks/{task_id}/samples: per-second telemetry of
 * one carousel task. Valid samples are stored (latest per second wins) even when others
 * in the same request are rejected; the answer lists each rejection with its index.
 * The reply is sent only after the samples are committed to the store (503 when it refuses them).
 */
export function ingestSamplesRoute(app: FastifyInstance, ctx: AppContext): void {
  app.post(INGEST_SAMPLES_PATH, async (request) => {
    const project = await projectOf(ctx, request);
    const taskId = (request.params as { task_id?: string }).task_id ?? '';
    if (!isTaskId(taskId)) throw invalidParameter('task_id');
    refuseWhileDegraded(ctx);
    const items = decodeBody(request.body);
    const { samples, rejected } = validateSamples(items, ctx.now());
    if (samples.length === 0 && rejected.length > 0) {
      const first = rejected[0] as { index: number; reason: string };
      throw badBody(`all ${rejected.length} samples rejected; first: [${first.index}] ${first.reason}`);
    }
    if (samples.length > 0) {
      const rows = samples.map((s) => ({ ...s, project, taskId }));
      if (ctx.aggregator) {
        ctx.aggregator.registerTask(project, taskId);
        for (const row of rows) ctx.aggregator.addSample(row);
        await refusedAs503(ctx.aggregator.commit());
      } else {
        await ctx.store.write({ id: randomUUID(), counts: [], samples: rows, tasks: [{ project, taskId }], checkpoints: [] });
      }
    }
    return { accepted: samples.length, rejected };
  });
}
