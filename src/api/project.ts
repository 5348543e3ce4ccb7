import type { FastifyRequest } from 'fastify';
import { invalidParameter } from '../contract/errors.js';
import type { AppContext } from './context.js';

const PROJECT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const isProjectId = (s: string): boolean => PROJECT_ID.test(s);

const authenticated = new WeakSet<FastifyRequest>();

/** Whether projectOf has authenticated this request (checked before any /v2 or /ingest answer leaves). */
export const wasAuthenticated = (request: FastifyRequest): boolean => authenticated.has(request);

/** Validates the path's project id and runs the auth hook for it; returns the project id. */
export async function projectOf(ctx: Pick<AppContext, 'authenticate'>, request: FastifyRequest): Promise<string> {
  const projectId = (request.params as { project_id?: string }).project_id ?? '';
  if (!isProjectId(projectId)) throw invalidParameter('project_id');
  await ctx.authenticate(request, projectId);
  authenticated.add(request);
  return projectId;
}
