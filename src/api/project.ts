import type { FastifyRequest } from 'fastify';
import { ApiError } from '../contract/errors.js';
import { present, readValue, type ParamSpec } from '../contract/params.js';
import type { AppContext } from './context.js';

const PROJECT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const isProjectId = (s: string): boolean => PROJECT_ID.test(s);

export const PROJECT_ID_PARAM: ParamSpec = {
  name: 'project_id', in: 'path', kind: 'single', required: true,
  description: 'The project: 1-64 letters, digits, _ and -, starting with a letter or digit. The credential must be of this project.',
  schema: { type: 'string', pattern: PROJECT_ID.source, examples: ['default'] },
};

const authenticated = new WeakSet<FastifyRequest>();

/** Whether projectOf has authenticated this request (checked before any /v2 or /ingest answer leaves). */
export const wasAuthenticated = (request: FastifyRequest): boolean => authenticated.has(request);

/** The path's project id, validated. */
function pathProject(request: FastifyRequest): string {
  const projectId = present(readValue((request.params as { project_id?: string }).project_id, PROJECT_ID_PARAM), PROJECT_ID_PARAM);
  if (projectId instanceof ApiError) throw projectId;
  return projectId;
}

/** Before a body is read: validates the path's project id and runs the auth hook's header checks (see Authenticate). */
export async function projectBeforeBody(ctx: Pick<AppContext, 'authenticate'>, request: FastifyRequest): Promise<'discard' | undefined> {
  const projectId = pathProject(request);
  return ctx.authenticate.beforeBody?.(request, projectId);
}

/** Validates the path's project id and runs the auth hook for it; returns the project id. */
export async function projectOf(ctx: Pick<AppContext, 'authenticate'>, request: FastifyRequest): Promise<string> {
  const projectId = pathProject(request);
  await ctx.authenticate(request, projectId);
  authenticated.add(request);
  return projectId;
}
