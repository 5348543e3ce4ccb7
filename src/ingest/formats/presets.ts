import { compileLogFormat } from './nginx-parser.js';
import { jsonLinesParser, type FieldMapping } from './json-lines.js';
import { FormatError, parseLogFormatText } from './log-format.js';
import type { LineParser } from './types.js';

/** Named formats; anything else given as --format is compiled as a log_format string. */
export const PRESETS: Record<string, string> = {
  combined:
    `'$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"'`,
  combined_host:
    `'$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $host'`,
  // combined_host with the client chain of a proxy or load balancer appended (docs/ingest.md, "Behind a proxy").
  combined_host_xff:
    `'$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $host "$http_x_forwarded_for"'`,
  nginx_json:
    `escape=json '{"time":"$time_iso8601","remote_addr":"$remote_addr","x_forwarded_for":"$http_x_forwarded_for",` +
    `"host":"$host","request":"$request","status":$status,"body_bytes_sent":$body_bytes_sent,` +
    `"request_time":$request_time,"http_referer":"$http_referer","http_user_agent":"$http_user_agent"}'`,
};

/** Names accepted for JSON lines (Vector, Fluent Bit, nginx escape=json objects in any key order). */
const JSON_NAMES = new Set(['json', 'jsonl', 'ndjson']);

export interface FormatOptions {
  fields?: FieldMapping;
}

/** Builds the parser for --format: a preset name, 'json', or a log_format string. Throws FormatError. */
export function createLineParser(format: string, options: FormatOptions = {}): LineParser {
  const spec = format.trim();
  if (spec === '') throw new FormatError('empty --format');
  if (JSON_NAMES.has(spec)) return jsonLinesParser(options.fields);
  if (options.fields && Object.keys(options.fields).length > 0) {
    throw new FormatError('--field applies to --format json only');
  }
  // Own names only: 'valueOf' or 'constructor' are not presets (they were a TypeError, a 500 over HTTP).
  const preset = Object.hasOwn(PRESETS, spec) ? PRESETS[spec] : undefined;
  if (preset !== undefined) return compileLogFormat(parseLogFormatText(preset), spec);
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(spec)) {
    throw new FormatError(`unknown format "${spec}": use ${[...Object.keys(PRESETS), 'json'].join(', ')} or a log_format string`);
  }
  return compileLogFormat(parseLogFormatText(spec), 'log_format');
}
