import type { Logger } from 'pino';
import type { Authenticate } from '../api/auth.js';
import { createAuthenticate } from '../api/auth/hook.js';
import { bootstrapCredentials, credentialsPath, type IssuedCredentials } from './credentials.js';
import { newToken } from './secrets.js';
import { combineSources, FileCredentialSource, MemoryCredentialSource } from './source.js';

export interface ServerAuth {
  authenticate: Authenticate;
  /** Created on this start because no credentials file existed; printed once, never stored in clear. */
  issued?: IssuedCredentials;
  /** Demo mode only: a token for the demo project valid while this process runs (kept in memory). */
  sessionToken?: string;
  /** Stops watching the credentials file. */
  close?: () => void;
}

export interface SetupAuthOptions {
  dataDir: string;
  /** Project the first-start credentials are created for. */
  firstProject: string;
  /** When set, also issue an in-memory session token for this project. */
  sessionProject?: string;
  logger: Logger;
  checkIntervalMs?: number;
}

/** Builds the server's authentication from `<data>/credentials.json` (creating it on first start). */
export function setupAuth(o: SetupAuthOptions): ServerAuth {
  const issued = bootstrapCredentials(o.dataDir, o.firstProject);
  if (issued) o.logger.info({ project: issued.project_id, ak: issued.ak, token_id: issued.token_id, file: credentialsPath(o.dataDir) }, 'created first credentials');
  const file = new FileCredentialSource(o.dataDir, {
    checkIntervalMs: o.checkIntervalMs,
    onError: (err) => o.logger.error({ err: { message: err.message }, file: credentialsPath(o.dataDir) }, 'cannot read credentials; refusing all requests until fixed'),
    onReload: (counts) => o.logger.info(counts, 'credentials loaded'),
  });
  const memory = new MemoryCredentialSource();
  let sessionToken: string | undefined;
  if (o.sessionProject) {
    sessionToken = newToken();
    memory.addToken(sessionToken, 'session', o.sessionProject);
  }
  return { authenticate: createAuthenticate({ source: combineSources(file, memory) }), issued, sessionToken, close: () => file.close() };
}
