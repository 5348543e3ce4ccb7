import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/** A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1), as plain data. */
export type JsonSchema = { readonly [keyword: string]: unknown };

const ajv = new Ajv2020({ strict: true, allErrors: true });
const compiled = new WeakMap<JsonSchema, ValidateFunction>();

/**
 * The compiled validator of a schema (compiled once per schema object). The same schema
 * objects are what GET /openapi.json publishes, so what is documented is what is checked.
 */
export function validatorOf(schema: JsonSchema): ValidateFunction {
  let v = compiled.get(schema);
  if (v === undefined) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

export const conforms = (schema: JsonSchema, value: unknown): boolean => validatorOf(schema)(value);

const bounds = new WeakMap<JsonSchema, JsonSchema>();
/** An array schema without its `items`: the bounds of the array as a whole, for items judged one by one. */
export function arrayBoundsOf(schema: JsonSchema): JsonSchema {
  let b = bounds.get(schema);
  if (b === undefined) {
    const { items: _items, ...rest } = schema;
    b = rest;
    bounds.set(schema, b);
  }
  return b;
}
