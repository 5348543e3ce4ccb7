import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.js';
import { projectOf } from '../project.js';
import { AUTHENTICATED_ERRORS, PROJECT_PARAMS, UTC_SECOND_SCHEMA } from '../spec/shared.js';
import type { RouteSpec } from '../spec/types.js';
import { formatUtcSecond } from '../../contract/time.js';

/**
 * The names a project has stored, for the dashboard's domain and task pickers and its sign-in check.
 * Not part of the Huawei Cloud API (which has no such call): a livestats addition, authenticated like
 * the stats endpoints.
 */
export const DASHBOARD_NAMES_PATH = '/v2/:project_id/dashboard/names';

/** At most this many domains and tasks are listed (sorted by name); `truncated` says when more exist. */
export const MAX_LISTED_NAMES = 1000;

export const DASHBOARD_NAMES_SPEC: RouteSpec = {
  method: 'GET', url: DASHBOARD_NAMES_PATH, operationId: 'DashboardNames', tags: ['dashboard'], security: 'credentials',
  summary: 'Known play domains and carousel tasks of a project (livestats addition)',
  description: 'The play domains with stored playback or traffic counts and the carousel tasks of the project, sorted by name, ' +
    `at most ${MAX_LISTED_NAMES} of each. The dashboard lists them in its pickers and calls this to check a sign-in. ` +
    'Not a Huawei Cloud Live API.',
  parameters: [...PROJECT_PARAMS],
  responses: {
    200: {
      description: 'The names',
      content: {
        'application/json': {
          schema: {
            type: 'object', additionalProperties: false, required: ['domains', 'tasks', 'truncated'],
            properties: {
              domains: { type: 'array', items: { type: 'string' } },
              tasks: {
                type: 'array',
                items: {
                  type: 'object', additionalProperties: false, required: ['task_id', 'last_sample_time'],
                  properties: {
                    task_id: { type: 'string' },
                    last_sample_time: { anyOf: [UTC_SECOND_SCHEMA, { type: 'null' }], description: 'The newest sample\'s second; null when none yet' },
                  },
                },
              },
              truncated: { type: 'boolean', description: `True when a list was cut at ${MAX_LISTED_NAMES}` },
            },
          },
        },
      },
    },
  },
  errors: [...AUTHENTICATED_ERRORS],
};

export interface DashboardNames {
  domains: string[];
  tasks: Array<{ task_id: string; last_sample_time: string | null }>;
  truncated: boolean;
}

/** GET /v2/{project_id}/dashboard/names: authenticated before any store read. */
export function dashboardNamesRoute(app: FastifyInstance, ctx: AppContext): void {
  app.get(DASHBOARD_NAMES_PATH, { config: { openapi: DASHBOARD_NAMES_SPEC } }, async (request, reply) => {
    const project = await projectOf(ctx, request);
    // Domains only: a project's streams (up to --max-streams, millions) are never read for the picker.
    const [stored, tasks] = await Promise.all([
      ctx.store.storedDomains ? ctx.store.storedDomains(project)
        : ctx.store.storedNames ? ctx.store.storedNames(project).then((n) => n.domains) : Promise.resolve([]),
      ctx.store.listTasks(project),
    ]);
    const domains = [...new Set(stored)].sort();
    tasks.sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0));
    const body: DashboardNames = {
      domains: domains.slice(0, MAX_LISTED_NAMES),
      tasks: tasks.slice(0, MAX_LISTED_NAMES).map((t) => ({
        task_id: t.taskId,
        last_sample_time: t.lastSampleAt === null ? null : formatUtcSecond(t.lastSampleAt),
      })),
      truncated: domains.length > MAX_LISTED_NAMES || tasks.length > MAX_LISTED_NAMES,
    };
    return reply.type('application/json; charset=utf-8').header('Cache-Control', 'no-store').send(JSON.stringify(body));
  });
}
