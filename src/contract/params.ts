import { invalidParameter, quoted, type ApiError } from './errors.js';
import { badEncoding, givenTwice, schemaReason, singleReason, tooMany } from './reasons.js';
import { arrayParam, singleParam, type RawQuery } from './query.js';
import { arrayBoundsOf, conforms, type JsonSchema } from './schema.js';

/**
 * A request parameter declared once: the server reads and validates it from this declaration
 * and GET /openapi.json publishes it. `schema` is the JSON Schema of the value as read:
 * - `array` (query): repeated keys and/or comma-separated values; items trimmed, empty ones
 *   dropped, duplicates removed. `schema.items` applies to each item as sent; the array's own
 *   bounds (minItems, maxItems) to the distinct items after normalization (e.g. domains in IDNA form);
 * - `repeated` (query): every occurrence one item, not split at commas;
 * - `single`: one value; absent or empty means not given, two different values are invalid.
 * A value that fails is answered `Invalid request parameter: <name>`.
 */
export interface ParamSpec {
  name: string;
  in: 'query' | 'path' | 'header';
  kind: 'array' | 'repeated' | 'single';
  required?: boolean;
  /** single: surrounding whitespace is ignored. */
  trim?: boolean;
  description: string;
  schema: JsonSchema;
  /**
   * Why a value (or an array item) that fails `schema` is refused, in words, for the 400's reason
   * (server log and REASON_HEADER, never the body); default: derived from the schema. Not published.
   */
  refused?: (value: string) => string;
}

/** A query array parameter: each item checked, optionally normalized (undefined: invalid), then the bounds. */
export function readArray(query: RawQuery, spec: ParamSpec, normalize?: (item: string) => string | undefined): string[] | ApiError {
  const items = spec.kind === 'repeated'
    ? (query.get(spec.name) ?? []).map((v) => v)
    : arrayParam(query, spec.name);
  if (items === undefined || items.some((v) => v === null)) return invalidParameter(spec.name, badEncoding);
  const itemSchema = spec.schema.items as JsonSchema | undefined;
  const out = new Set<string>();
  for (const item of items as string[]) {
    if (itemSchema !== undefined && !conforms(itemSchema, item)) return invalidParameter(spec.name, spec.refused?.(item) ?? schemaReason(itemSchema, item));
    const n = normalize ? normalize(item) : item;
    if (n === undefined) {
      return invalidParameter(spec.name, spec.refused?.(item) ?? `${quoted(item)} is not a valid ${spec.name === 'play_domains' ? 'domain name' : 'value'}`);
    }
    out.add(n);
  }
  const list = spec.kind === 'repeated' ? (items as string[]) : [...out];
  if (!conforms(arrayBoundsOf(spec.schema), list)) return invalidParameter(spec.name, arrayReason(spec.name, spec.schema, list.length));
  return list;
}

/** A single query parameter: undefined when not given (and not required). */
export function readSingle(query: RawQuery, spec: ParamSpec): string | undefined | ApiError {
  const p = singleParam(query, spec.name);
  if (!p.ok) return invalidParameter(spec.name, singleReason(p.reason));
  return checkSingle(p.value, spec);
}

/** A single value from a path or a header (a repeated header arrives as a list: invalid). */
export function readValue(value: string | string[] | undefined, spec: ParamSpec): string | undefined | ApiError {
  if (Array.isArray(value)) return invalidParameter(spec.name, givenTwice);
  return checkSingle(value, spec);
}

function checkSingle(raw: string | undefined, spec: ParamSpec): string | undefined | ApiError {
  if (raw === undefined) return spec.required ? invalidParameter(spec.name, 'required, and not given') : undefined;
  const value = spec.trim ? raw.trim() : raw;
  return conforms(spec.schema, value) ? value : invalidParameter(spec.name, spec.refused?.(value) ?? schemaReason(spec.schema, value));
}

/** A required parameter's value: an absent one is invalid like a bad one. */
export const present = (value: string | undefined | ApiError, spec: ParamSpec): string | ApiError =>
  value === undefined ? invalidParameter(spec.name, 'required, and not given') : value;

/** Why an array parameter's values as a whole are refused (too few or too many). */
function arrayReason(name: string, schema: JsonSchema, count: number): string {
  const max = schema.maxItems as number | undefined;
  if (max === 0) return `${name} is not supported yet: leave it out (${count} value${count === 1 ? '' : 's'} given)`;
  if (typeof max === 'number' && count > max) return tooMany(count, max);
  const min = schema.minItems as number | undefined;
  if (typeof min === 'number' && count < min) return count === 0 ? 'required, and not given' : `${count} values given; at least ${min} are needed`;
  return `${count} values given, which is not accepted`;
}
