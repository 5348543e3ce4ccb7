import type { ErrorKind } from '../../contract/errors.js';
import type { ParamSpec } from '../../contract/params.js';
import { PROJECT_ID_PARAM } from '../project.js';

export const X_PROJECT_ID_HEADER: ParamSpec = {
  name: 'X-Project-Id', in: 'header', kind: 'single',
  description: 'Optional, as Huawei Cloud SDKs send it: when present it must be the path\'s project (else 401 LIVE.100011015).',
  schema: PROJECT_ID_PARAM.schema,
};

/** The parameters every /v2 and /ingest route starts with. */
export const PROJECT_PARAMS: readonly ParamSpec[] = [PROJECT_ID_PARAM, X_PROJECT_ID_HEADER];

/** Errors any authenticated route can answer (its own parameter and body errors come on top). */
export const AUTHENTICATED_ERRORS: readonly ErrorKind[] = ['invalidParameter', 'requestTimeout', 'authFailed', 'projectMismatch', 'internal'];

const UTC = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$';
/** A timestamp as the API writes them. */
export const UTC_SECOND_SCHEMA = { type: 'string', pattern: UTC } as const;
export const COUNT_SCHEMA = { type: 'integer', minimum: 0 } as const;
