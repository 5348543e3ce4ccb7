/**
 * Raw query string handling. Values that are not valid percent-encoding are kept as
 * `null` so the parameter they belong to is reported as invalid rather than guessed at.
 */
export type RawQuery = ReadonlyMap<string, ReadonlyArray<string | null>>;

const decode = (s: string): string | null => {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return null;
  }
};

export function parseRawQuery(search: string): RawQuery {
  const out = new Map<string, Array<string | null>>();
  const text = search.startsWith('?') ? search.slice(1) : search;
  if (text.length === 0) return out;
  for (const part of text.split('&')) {
    if (part.length === 0) continue;
    const eq = part.indexOf('=');
    const rawKey = eq < 0 ? part : part.slice(0, eq);
    const key = decode(rawKey) ?? rawKey;
    const value = eq < 0 ? '' : decode(part.slice(eq + 1));
    const list = out.get(key);
    if (list) list.push(value);
    else out.set(key, [value]);
  }
  return out;
}

/** The query string of a raw request URL (everything after the first `?`). */
export const rawSearch = (url: string): string => {
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
};

/**
 * An array parameter as real SDKs send it: repeated keys, comma-separated values, or both.
 * Items are trimmed; empty ones dropped; duplicates removed (first occurrence kept).
 * Returns undefined when any part could not be decoded.
 */
export function arrayParam(query: RawQuery, name: string): string[] | undefined {
  const values = query.get(name);
  if (!values) return [];
  const seen = new Set<string>();
  for (const v of values) {
    if (v === null) return undefined;
    for (const item of v.split(',')) {
      const t = item.trim();
      if (t.length > 0) seen.add(t);
    }
  }
  return [...seen];
}

/**
 * A single-valued parameter: absent or empty means "not given"; given twice (with
 * different non-empty values) or badly encoded is invalid.
 */
export function singleParam(
  query: RawQuery, name: string,
): { ok: true; value: string | undefined } | { ok: false; reason: 'encoding' | 'twice' } {
  const values = query.get(name);
  if (!values) return { ok: true, value: undefined };
  let found: string | undefined;
  for (const v of values) {
    if (v === null) return { ok: false, reason: 'encoding' };
    if (v.length === 0) continue;
    if (found !== undefined && found !== v) return { ok: false, reason: 'twice' };
    found = v;
  }
  return { ok: true, value: found };
}
