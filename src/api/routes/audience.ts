import type { FastifyInstance } from 'fastify';
import { parsePortraitQuery, shapePortrait } from '../../contract/audience/portrait.js';
import { parsePlayInfoQuery, shapePlayInfo } from '../../contract/audience/play-info.js';
import { renderUsers } from '../../contract/audience/users-body.js';
import { parseUsersQuery, usersNeedData, type AudienceStored } from '../../contract/audience/users.js';
import { ApiError } from '../../contract/errors.js';
import { parseRawQuery, rawSearch } from '../../contract/query.js';
import type { AudienceBodies, AudienceQuery } from '../../store/audience.js';
import type { AppContext } from '../context.js';
import { projectOf } from '../project.js';
import { storeBody } from '../body.js';
import { querySignal } from '../query-admission.js';
import { playInfoSpec, portraitSpec, usersSpec } from './audience-spec.js';

export const USERS_PATH = '/v2/:project_id/stats/user';
export const PLAY_INFO_PATH = '/v2/:project_id/stats/stream/play-info';
export const PORTRAIT_PATH = '/v2/:project_id/stats/stream-portraits';

/** What the three audience routes read (the audience cube's read side, in either store). */
export type AudienceReads = Pick<AudienceQuery, 'usersSeries' | 'playInfo' | 'streamPortrait'> & Partial<AudienceBodies>;

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * GET /v2/{project_id}/stats/user (ListUsersOfStream), /stats/stream/play-info
 * (ListPlayDomainStreamInfo) and /stats/stream-portraits (ShowStreamPortrait). Like every stats
 * route: authenticate first (projectOf), then the contract's checks (400s naming the parameter),
 * then the store under the request's query slot and signal (the client leaving cancels the read).
 * `stored`: how far back the audience cube keeps data.
 */
export function audienceRoutes(app: FastifyInstance, ctx: AppContext, audience: AudienceReads, stored: AudienceStored): void {
  app.get(USERS_PATH, { config: { openapi: usersSpec(USERS_PATH) } }, async (request, reply) => {
    const project = await projectOf(ctx, request);
    const q = parseUsersQuery(parseRawQuery(rawSearch(request.url)), ctx.now(), stored);
    if (q instanceof ApiError) throw q;
    const filter = {
      project, domain: q.domain, app: q.app, stream: q.stream, protocol: q.protocol, regions: q.regions, isps: q.isps,
      slotMs: q.slots.slotMs, from: q.slots.from, to: q.slots.to,
    };
    const key = ctx.cache.key(() => `au\u0000users\u0000${q.serviceType}\u0000${JSON.stringify(filter)}`);
    let body = ctx.cache.get(key);
    if (body === undefined) {
      if (usersNeedData(q) && audience.usersBody) {
        // Read and rendered in the store's read worker: 7 days at 60 s is 10,080 entries.
        body = storeBody(ctx, reply, await audience.usersBody(filter, { signal: querySignal(request) }), audience);
      } else {
        const values = usersNeedData(q) ? await audience.usersSeries(filter, { signal: querySignal(request) }) : new Float64Array(q.slots.count);
        const bytes = renderUsers(q, values);
        body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      }
      ctx.cache.set(project, key, body);
    }
    return reply.type(JSON_TYPE).send(body);
  });

  app.get(PLAY_INFO_PATH, { config: { openapi: playInfoSpec(PLAY_INFO_PATH) } }, async (request, reply) => {
    const project = await projectOf(ctx, request);
    const q = parsePlayInfoQuery(parseRawQuery(rawSearch(request.url)), ctx.now(), stored.streamMs);
    if (q instanceof ApiError) throw q;
    const filter = { project, domains: q.domains, minute: q.minute };
    const key = ctx.cache.key(() => `au\u0000play-info\u0000${JSON.stringify(filter)}`);
    let body = ctx.cache.get(key);
    if (body === undefined) {
      body = audience.playInfoBody
        ? storeBody(ctx, reply, await audience.playInfoBody(filter, { signal: querySignal(request) }), audience)
        : JSON.stringify(shapePlayInfo(q, await audience.playInfo(filter, { signal: querySignal(request) })));
      ctx.cache.set(project, key, body);
    }
    return reply.type(JSON_TYPE).send(body);
  });

  app.get(PORTRAIT_PATH, { config: { openapi: portraitSpec(PORTRAIT_PATH) } }, async (request, reply) => {
    const project = await projectOf(ctx, request);
    const q = parsePortraitQuery(parseRawQuery(rawSearch(request.url)), ctx.now(), stored);
    if (q instanceof ApiError) throw q;
    const filter = { project, domain: q.domain, stream: q.stream, day: q.day };
    const key = ctx.cache.key(() => `au\u0000portrait\u0000${JSON.stringify(filter)}`);
    let body = ctx.cache.get(key);
    if (body === undefined) {
      const totals = await audience.streamPortrait(filter, { signal: querySignal(request) });
      body = JSON.stringify(shapePortrait(q, totals));
      ctx.cache.set(project, key, body);
    }
    return reply.type(JSON_TYPE).send(body);
  });
}
