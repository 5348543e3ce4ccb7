import type { FuzzTarget } from '../target.js';
import { authorizationTarget } from './authorization.js';
import { batchStoreTarget } from './batch-store.js';
import { geoCsvTarget } from './geo-csv.js';
import { jsonLinesTarget } from './json-lines.js';
import { logFormatTarget, presetTarget } from './log-lines.js';
import { queryTarget } from './query.js';
import { syslogTarget } from './syslog.js';

/** Every synchronous fuzz target, by name (the HTTP intake runs against a server: see http-intake.ts). */
export function parserTargets(): Array<FuzzTarget<unknown>> {
  return [
    presetTarget('combined'), presetTarget('combined_host'), presetTarget('nginx_json'), logFormatTarget(), jsonLinesTarget(),
    syslogTarget(), queryTarget(), authorizationTarget(), geoCsvTarget(), batchStoreTarget(),
  ] as Array<FuzzTarget<unknown>>;
}

export const HTTP_TARGET = 'http_intake';
