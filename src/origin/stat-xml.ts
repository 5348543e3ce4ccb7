/**
 * nginx-rtmp's statistics page (`rtmp_stat all`, XML) as data: per live stream its input bytes and
 * bandwidth, its clients (publisher and players) and the `meta` block. A small tolerant reader
 * of the module's fixed layout (src/origin/stat-xml.test.ts runs it on pages from a real nginx).
 */
export interface StatClient {
  id: string;
  address: string;
  /** ms since the client connected. */
  timeMs: number;
  flashver: string;
  publishing: boolean;
}

export interface StatStream {
  app: string;
  name: string;
  /** ms since the stream began. */
  timeMs: number;
  /** undefined: not a readable counter on this page. */
  bytesIn: number | undefined;
  /** bits per second over the module's last 10 s window (0 until the first window closes). */
  bwIn: number;
  videoCodec: string;
  audioCodec: string;
  width: number;
  height: number;
  frameRate: number;
  clients: StatClient[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
// Only the five predefined entities: a page's DTD (entity definitions, "billion laughs") is never read.
const decode = (s: string): string => s.replace(/&(amp|lt|gt|quot|apos);/g, (_m, e: string) => ENTITIES[e] as string);

/**
 * The contents of each `<name>...</name>` in `body`, in order, found with indexOf only: linear in the
 * page's size whatever it holds (an unclosed element ends the list; a hostile page of thousands of
 * unclosed tags costs one pass, not one pass per tag).
 */
function* elements(body: string, name: string): Generator<string> {
  const open = `<${name}>`;
  const close = `</${name}>`;
  let i = body.indexOf(open);
  while (i >= 0) {
    const start = i + open.length;
    const end = body.indexOf(close, start);
    if (end < 0) return;
    yield body.slice(start, end);
    i = body.indexOf(open, end + close.length);
  }
}

/** The text of the first `<name>` element of `body` (undefined when none, or when it holds markup). */
function tag(body: string, name: string): string | undefined {
  for (const text of elements(body, name)) return text.includes('<') ? undefined : decode(text);
  return undefined;
}

/** A counter of the page: a whole number up to 2^53 - 1; anything else (negative, fractional, larger, not a number) is unreadable. */
export const MAX_COUNTER = Number.MAX_SAFE_INTEGER;
const counter = (s: string | undefined): number | undefined => {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (!/^\d{1,16}$/.test(t)) return undefined;
  const n = Number(t);
  return n <= MAX_COUNTER ? n : undefined;
};
const int = (s: string | undefined): number => counter(s) ?? 0;

/** Before the first of the markers (or the whole text). */
const before = (s: string, ...markers: string[]): string => {
  let end = s.length;
  for (const m of markers) {
    const i = s.indexOf(m);
    if (i >= 0 && i < end) end = i;
  }
  return s.slice(0, end);
};

/**
 * The live streams of every application on the page (streams without a publisher included: they
 * have no publishing client). Counters that are not whole numbers up to 2^53 - 1 read as 0, except
 * bytes_in, which reads as undefined (unknown: the tracker then counts no input bytes for the stream
 * in this poll rather than taking a bogus value as a counter reset).
 */
export function parseRtmpStat(xml: string): StatStream[] {
  if (!xml.includes('<rtmp>')) throw new Error('not an nginx-rtmp statistics page (no <rtmp> element)');
  const out: StatStream[] = [];
  for (const app of elements(xml, 'application')) {
    const appName = tag(before(app, '<live>', '<play>'), 'name') ?? '';
    for (const live of elements(app, 'live')) {
      for (const s of elements(live, 'stream')) {
        const meta = first(s, 'meta');
        const video = first(meta, 'video');
        const audio = first(meta, 'audio');
        const clients: StatClient[] = [];
        for (const body of elements(s, 'client')) {
          clients.push({
            id: tag(body, 'id') ?? '', address: tag(body, 'address') ?? '', timeMs: int(tag(body, 'time')),
            flashver: tag(body, 'flashver') ?? '', publishing: body.includes('<publishing/>'),
          });
        }
        const head = before(s, '<client>', '<meta>');
        out.push({
          app: appName, name: tag(head, 'name') ?? '', timeMs: int(tag(head, 'time')), bytesIn: counter(tag(head, 'bytes_in')), bwIn: int(tag(head, 'bw_in')),
          videoCodec: tag(video, 'codec') ?? '', audioCodec: tag(audio, 'codec') ?? '',
          width: int(tag(video, 'width')), height: int(tag(video, 'height')), frameRate: int(tag(video, 'frame_rate')), clients,
        });
      }
      break;
    }
  }
  return out;
}

/** The raw contents of the first `<name>` element ('' when none). */
function first(body: string, name: string): string {
  for (const text of elements(body, name)) return text;
  return '';
}
