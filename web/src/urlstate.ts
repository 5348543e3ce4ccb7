/**
 * Filters kept in the page URL, so a reload (or a shared link) shows the same thing. Each view owns
 * the query parameters `<prefix>.<key>` (e.g. `pb.domains`, `tr.interval`); the tab is the `#hash`
 * and `tz` the page's time zone. A value equal to the view's default is left out of the URL. The URL is
 * rewritten in place (history.replaceState): no reload, no new history entry per filter change.
 *
 * A new view adopts it in three lines: `const state = new UrlState('xy', { key: input, ... })`
 * after its inputs hold their defaults, `state.restore()` once, `state.save()` on every change.
 */

export type Field = HTMLInputElement | HTMLSelectElement;

/** How a field's value is written to and read from the URL (default: as is). */
export interface Codec {
  toUrl(value: string): string | undefined;
  fromUrl(value: string): string | undefined;
}

/** Sets `<prefix>.<key>` for each value that differs from its default, removes the others. Pure. */
export function encodeState(params: URLSearchParams, prefix: string, values: Record<string, string>, defaults: Record<string, string>): void {
  for (const [key, value] of Object.entries(values)) {
    const name = `${prefix}.${key}`;
    if (value === (defaults[key] ?? '')) params.delete(name);
    else params.set(name, value);
  }
}

/** The `<prefix>.<key>` values present in `params`, for the given keys. Pure. */
export function decodeState(params: URLSearchParams, prefix: string, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) {
    const v = params.get(`${prefix}.${key}`);
    if (v !== null) out[key] = v;
  }
  return out;
}

/** Rewrites the page URL's query with `edit` (keeping path and hash), without reloading. */
export function editUrl(edit: (params: URLSearchParams) => void): void {
  const params = new URLSearchParams(location.search);
  edit(params);
  const query = params.toString();
  const url = `${location.pathname}${query ? `?${query}` : ''}${location.hash}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(history.state, '', url);
}

/** One view's filters bound to the URL. */
export class UrlState {
  private readonly defaults: Record<string, string> = {};

  /** Call once the fields hold the view's defaults (e.g. the demo domains filled in). */
  constructor(
    private readonly prefix: string,
    private readonly fields: Record<string, Field>,
    private readonly codecs: Record<string, Codec> = {},
    /** Fields that only count some of the time (e.g. From/To while "custom" is chosen): left out otherwise. */
    private readonly when: Record<string, () => boolean> = {},
  ) {
    for (const [key, field] of Object.entries(fields)) this.defaults[key] = this.urlValue(key, field.value);
  }

  private urlValue(key: string, value: string): string {
    const codec = this.codecs[key];
    return codec ? codec.toUrl(value) ?? '' : value;
  }

  /** Fills the fields from the URL; a value a select does not offer (or a codec refuses) is ignored. */
  restore(): void {
    const values = decodeState(new URLSearchParams(location.search), this.prefix, Object.keys(this.fields));
    for (const [key, raw] of Object.entries(values)) {
      const field = this.fields[key];
      if (!field) continue;
      const codec = this.codecs[key];
      const value = codec ? codec.fromUrl(raw) : raw;
      if (value === undefined) continue;
      if (field instanceof HTMLSelectElement && ![...field.options].some((o) => o.value === value)) continue;
      field.value = value;
    }
  }

  /** Writes the fields' current values to the URL. */
  save(): void {
    const values: Record<string, string> = {};
    for (const [key, field] of Object.entries(this.fields)) {
      values[key] = this.when[key]?.() === false ? this.defaults[key] ?? '' : this.urlValue(key, field.value);
    }
    editUrl((params) => encodeState(params, this.prefix, values, this.defaults));
  }
}
