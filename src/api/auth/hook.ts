import type { FastifyRequest } from 'fastify';
import { authFailed, projectMismatch } from '../../contract/errors.js';
import type { CredentialSource } from '../../auth/source.js';
import type { Authenticate } from '../auth.js';
import { bodyDigestOf } from '../body-digest.js';
import { BODY_PENDING, verifyAkSk } from './aksk.js';
import { verifyToken } from './token.js';

export interface AuthHookOptions {
  source: CredentialSource;
  /** Server clock for the X-Sdk-Date window. */
  now?: () => number;
}

type Outcome = { ok: true; project: string | undefined; who: Record<string, string>; discard?: boolean }
  | { ok: false; reason: string; who?: Record<string, string> };

/**
 * Checks the request's credentials. With `beforeBody`, from the headers only: a token is checked
 * whole; an AK/SK signature is checked whole when X-Sdk-Content-Sha256 declares the body's hash,
 * else everything but the signature itself (which covers the body) is, and the project is then
 * undefined (known once the body has been read and the signature checked).
 */
function check(request: FastifyRequest, source: CredentialSource, now: number, beforeBody: boolean): Outcome {
  const { authorization } = request.headers;
  const token = request.headers['x-auth-token'];
  if (authorization === undefined && token === undefined) return { ok: false, reason: 'no-credentials' };
  let project: string | undefined;
  const who: Record<string, string> = {};
  let discard = false;
  if (authorization !== undefined) {
    const body = beforeBody ? BODY_PENDING : Buffer.isBuffer(request.body) ? request.body : undefined;
    const r = verifyAkSk({
      method: request.method, url: request.raw.url ?? request.url, headers: request.headers, body, bodySha256: bodyDigestOf(request),
    }, (ak) => source.key(ak), now);
    if (r.ok) {
      project = r.project;
      who.ak = r.ak;
    } else if (r.reason === 'payload-pending') {
      discard = r.unknownAk === true;
    } else {
      return { ok: false, reason: r.reason, who: r.ak ? { ak: r.ak } : undefined };
    }
  }
  if (token !== undefined) {
    const r = verifyToken(token, source);
    if (!r.ok) return { ok: false, reason: r.reason, who };
    // Two credentials for different projects in one request are refused as a whole.
    if (project !== undefined && project !== r.project) return { ok: false, reason: 'credentials-disagree', who };
    project = r.project;
    who.token_id = r.id;
  }
  if (project === undefined && !beforeBody) return { ok: false, reason: 'no-credentials' };
  return { ok: true, project, who, discard };
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
  const run = (request: FastifyRequest, projectId: string, beforeBody: boolean): 'discard' | undefined => {
    const outcome = check(request, options.source, now(), beforeBody);
    if (!outcome.ok) {
      request.log.warn({ request_id: request.id, reason: outcome.reason, ...outcome.who, ip: request.ip }, 'authentication failed');
      throw authFailed();
    }
    const headerProject = request.headers['x-project-id'];
    if ((outcome.project !== undefined && outcome.project !== projectId) || (headerProject !== undefined && headerProject !== projectId)) {
      request.log.warn({ request_id: request.id, reason: 'project-mismatch', ...outcome.who, path_project: projectId }, 'authentication failed');
      throw projectMismatch();
    }
    return outcome.discard ? 'discard' : undefined;
  };
  const authenticate: Authenticate = async (request, projectId) => {
    run(request, projectId, false);
  };
  authenticate.beforeBody = async (request, projectId) => run(request, projectId, true);
  return authenticate;
}
