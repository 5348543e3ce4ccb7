import type { FastifyRequest } from 'fastify';
import { authFailed, projectMismatch } from '../../contract/errors.js';
import type { CredentialSource } from '../../auth/source.js';
import type { Authenticate } from '../auth.js';
import { verifyAkSk } from './aksk.js';
import { verifyToken } from './token.js';

export interface AuthHookOptions {
  source: CredentialSource;
  /** Server clock for the X-Sdk-Date window. */
  now?: () => number;
}

type Outcome = { ok: true; project: string; who: Record<string, string> } | { ok: false; reason: string; who?: Record<string, string> };

function check(request: FastifyRequest, source: CredentialSource, now: number): Outcome {
  const { authorization } = request.headers;
  const token = request.headers['x-auth-token'];
  if (authorization === undefined && token === undefined) return { ok: false, reason: 'no-credentials' };
  let project: string | undefined;
  const who: Record<string, string> = {};
  if (authorization !== undefined) {
    const body = Buffer.isBuffer(request.body) ? request.body : undefined;
    const r = verifyAkSk({ method: request.method, url: request.raw.url ?? request.url, headers: request.headers, body }, (ak) => source.key(ak), now);
    if (!r.ok) return { ok: false, reason: r.reason, who: r.ak ? { ak: r.ak } : undefined };
    project = r.project;
    who.ak = r.ak;
  }
  if (token !== undefined) {
    const r = verifyToken(token, source);
    if (!r.ok) return { ok: false, reason: r.reason, who };
    // Two credentials for different projects in one request are refused as a whole.
    if (project !== undefined && project !== r.project) return { ok: false, reason: 'credentials-disagree', who };
    project = r.project;
    who.token_id = r.id;
  }
  return project === undefined ? { ok: false, reason: 'no-credentials' } : { ok: true, project, who };
}

/**
 * The authentication hook for every /v2 and /ingest route. A request must carry a valid
 * AK/SK signature (`Authorization: SDK-HMAC-SHA256 ...`) or a valid `X-Auth-Token` (each
 * one that is present must be valid). Then the credential's project must be the path's
 * project, and `X-Project-Id`, when sent, too (401 LIVE.100011015). Every refusal of the
 * credential itself is the same 401 LIVE.100011002; the reason goes to the log with the
 * request id, and no secret ever does.
 */
export function createAuthenticate(options: AuthHookOptions): Authenticate {
  const now = options.now ?? Date.now;
  return async (request, projectId) => {
    const outcome = check(request, options.source, now());
    if (!outcome.ok) {
      request.log.warn({ request_id: request.id, reason: outcome.reason, ...outcome.who, ip: request.ip }, 'authentication failed');
      throw authFailed();
    }
    const headerProject = request.headers['x-project-id'];
    if (outcome.project !== projectId || (headerProject !== undefined && headerProject !== projectId)) {
      request.log.warn({ request_id: request.id, reason: 'project-mismatch', ...outcome.who, path_project: projectId }, 'authentication failed');
      throw projectMismatch();
    }
  };
}
