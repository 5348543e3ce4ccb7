/**
 * The dashboard's client for the public stats API: the same requests any API user makes,
 * with `X-Auth-Token` when signed in with a token. Errors carry the API's `error_msg`.
 */

export interface Session {
  projectId: string;
  token: string | null;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
  get unauthorized(): boolean {
    return this.status === 401;
  }
}

/** Called with every request URL (path + query) the dashboard sends; tests watch it. */
type Observer = (url: string) => void;
const observers: Observer[] = [];
export const observeRequests = (o: Observer): void => {
  observers.push(o);
};

export function headersFor(session: Session): Record<string, string> {
  return session.token ? { 'X-Auth-Token': session.token } : {};
}

/** Turns an error response into an ApiFailure with the API's own message when it sent one. */
export async function failureOf(res: Response): Promise<ApiFailure> {
  let body: unknown;
  try {
    body = await res.json();
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    body = undefined;
  }
  const b = (typeof body === 'object' && body !== null ? body : {}) as { error_code?: unknown; error_msg?: unknown };
  const msg = typeof b.error_msg === 'string' && b.error_msg ? b.error_msg : `HTTP ${res.status} ${res.statusText}`.trim();
  return new ApiFailure(res.status, typeof b.error_code === 'string' ? b.error_code : '', msg);
}

export type Endpoint =
  | 'stats/httpcodes' | 'stats/carousel-task/detail'
  | 'stats/traffic/detail' | 'stats/bandwidth/detail' | 'stats/traffic/summary' | 'stats/bandwidth/peak'
  | 'stats/user' | 'stats/stream/play-info' | 'stats/stream-portraits'
  | 'dashboard/names'
  | 'stats/history/streams' | 'stats/stream/bitrate' | 'stats/stream/framerate';

/** The v1 operations (ListLiveStreamsOnline is a v1 path). */
export type EndpointV1 = 'realtime/streams';

export function apiGet(session: Session, endpoint: Endpoint, params: URLSearchParams, signal?: AbortSignal): Promise<unknown> {
  return getJson(session, 'v2', endpoint, params, signal);
}

export function apiGetV1(session: Session, endpoint: EndpointV1, params: URLSearchParams, signal?: AbortSignal): Promise<unknown> {
  return getJson(session, 'v1', endpoint, params, signal);
}

async function getJson(session: Session, version: 'v1' | 'v2', endpoint: string, params: URLSearchParams, signal?: AbortSignal): Promise<unknown> {
  const query = params.toString();
  const url = `/${version}/${encodeURIComponent(session.projectId)}/${endpoint}${query ? `?${query}` : ''}`;
  for (const o of observers) o(url);
  let res: Response;
  try {
    res = await fetch(url, { headers: headersFor(session), signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiFailure(0, 'network', `Cannot reach the livestats server (${(err as Error).message})`);
  }
  if (!res.ok) throw await failureOf(res);
  try {
    return (await res.json()) as unknown;
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiFailure(res.status, 'parse', 'The server answered with something that is not JSON');
  }
}

export interface DashboardConfig {
  demo: boolean;
  project_id?: string;
  token?: string | null;
}

/** `/dashboard/config.json`; a dashboard served elsewhere (no config) behaves as not-demo. */
export async function loadConfig(): Promise<DashboardConfig> {
  try {
    const res = await fetch('/dashboard/config.json', { cache: 'no-store' });
    if (!res.ok) return { demo: false };
    const c = (await res.json()) as Partial<DashboardConfig>;
    return { demo: c.demo === true, project_id: c.project_id, token: c.token ?? null };
  } catch {
    return { demo: false };
  }
}
