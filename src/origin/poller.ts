import { normalizeDomain } from '../contract/domain.js';
import { PageBytes, statParser, type StatParser } from './stat-parser.js';
import type { OriginTracker } from './tracker.js';

/**
 * One statistics page to poll: `URL` with options in its fragment (never sent):
 * `http://10.0.0.5:8080/stat#project=default&domain=push.example.com&name=origin-a`.
 * name: the origin's name (default: the URL's host name, the address nginx's notifications come
 * from when nginx and its http server share a host); domain: the publish domain of streams the
 * page shows first (default: the name); project: default "default".
 */
export interface StatSource {
  url: string;
  project: string;
  origin: string;
  domain: string;
}

/** A poll's deadline when none is given (see PollerOptions.timeoutMs). */
export const DEFAULT_TIMEOUT_MS = 10_000;

export class StatSourceError extends Error {}

export function parseStatSource(text: string): StatSource {
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    throw new StatSourceError(`not a URL: ${text}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new StatSourceError(`not an http(s) URL: ${text}`);
  const opts = new URLSearchParams(u.hash.slice(1));
  for (const k of opts.keys()) if (!['project', 'domain', 'name'].includes(k)) throw new StatSourceError(`unknown option "${k}" in ${text}`);
  u.hash = '';
  const origin = opts.get('name') ?? u.hostname.replace(/^\[|\]$/g, '');
  const domainText = opts.get('domain');
  const domain = domainText === null ? origin : normalizeDomain(domainText);
  if (domain === undefined) throw new StatSourceError(`not a domain: ${domainText ?? ''}`);
  const project = opts.get('project') ?? 'default';
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(project)) throw new StatSourceError(`not a project id: ${project}`);
  return { url: u.toString(), project, origin, domain };
}

export interface PollerOptions {
  sources: StatSource[];
  intervalMs: number;
  tracker: OriginTracker;
  /**
   * Per request, reading the page included (default 10 s, whatever the interval: a busy origin or a
   * busy livestats may answer later than one interval, and polls of one origin never overlap, since
   * the next is scheduled when this one ends).
   */
  timeoutMs?: number;
  /** Largest page read, bytes (default 64 MiB); a larger one is refused as a failed poll. */
  maxBytes?: number;
  now?: () => number;
  /** Parses the pages (default: the process's parser, statParser()). */
  parser?: StatParser;
  onError?: (source: StatSource, err: Error) => void;
}

/**
 * Polls every origin's statistics page at the interval (each origin independently; a slow or
 * failing origin delays only itself). A failed poll changes nothing: sessions are closed only by
 * a page that was read whole.
 */
export class StatPoller {
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private readonly running = new Set<Promise<void>>();
  readonly polls = { ok: 0, failed: 0 };

  constructor(private readonly options: PollerOptions) {}

  start(): void {
    for (const source of this.options.sources) this.schedule(source, 0);
  }

  private schedule(source: StatSource, delay: number): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers = this.timers.filter((x) => x !== t);
      const p = this.pollOnce(source).catch(() => undefined).finally(() => {
        this.running.delete(p);
        this.schedule(source, this.options.intervalMs);
      });
      this.running.add(p);
    }, delay);
    t.unref();
    this.timers.push(t);
  }

  /** One poll of one source (also for tests and the gap fill at start). */
  async pollOnce(source: StatSource): Promise<void> {
    const now = this.options.now ?? Date.now;
    const requestedAt = now();
    try {
      const res = await fetch(source.url, { signal: AbortSignal.timeout(this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const page = await readLimited(res, this.options.maxBytes ?? 64 * 1024 * 1024);
      // The page's time is when it was read, not when its parse ended: a big page may wait in the
      // parse worker behind another origin's, and that wait must not stretch the poll's byte growth.
      const at = now();
      const { streams } = await (this.options.parser ?? statParser()).parse(page);
      await this.options.tracker.snapshot({ project: source.project, origin: source.origin, domain: source.domain, requestedAt, at, streams });
      this.polls.ok++;
    } catch (err) {
      this.polls.failed++;
      this.options.onError?.(source, err as Error);
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    await Promise.all([...this.running]);
  }
}

/** Bytes of a page read between two turns of the event loop (a fraction of a millisecond of copying). */
const READ_TURN = 256 * 1024;

/** The page's bytes, at most `max` (copied a chunk at a time: the event loop never holds a whole-page step). */
async function readLimited(res: Response, max: number): Promise<PageBytes> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) throw new Error(`statistics page larger than ${max} bytes`);
  const page = new PageBytes();
  if (!res.body) return page;
  let sinceTurn = 0;
  for await (const chunk of res.body) {
    if (page.length + (chunk as Uint8Array).byteLength > max) throw new Error(`statistics page larger than ${max} bytes`);
    page.append(chunk as Uint8Array);
    // Chunks already received arrive one after another as promise continuations, with no turn of
    // the event loop between them (a timer waits for the whole run): let it turn every READ_TURN bytes.
    sinceTurn += (chunk as Uint8Array).byteLength;
    if (sinceTurn >= READ_TURN) {
      sinceTurn = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  return page;
}
