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
  bytesIn: number;
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
const decode = (s: string): string => s.replace(/&(amp|lt|gt|quot|apos);/g, (_m, e: string) => ENTITIES[e] as string);

function tag(body: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(body);
  return m ? decode(m[1] as string) : undefined;
}

const int = (s: string | undefined): number => {
  const n = Number(s);
  return Number.isFinite(n) && n >= 0 ? n : 0;
};

/** The live streams of every application on the page (streams without a publisher included: they have no publishing client). */
export function parseRtmpStat(xml: string): StatStream[] {
  if (!/<rtmp>/.test(xml)) throw new Error('not an nginx-rtmp statistics page (no <rtmp> element)');
  const out: StatStream[] = [];
  for (const appPart of xml.split('<application>').slice(1)) {
    const appEnd = appPart.indexOf('</application>');
    const app = appEnd >= 0 ? appPart.slice(0, appEnd) : appPart;
    const appName = tag(app.slice(0, app.search(/<live>|<play>|$/)), 'name') ?? '';
    const liveStart = app.indexOf('<live>');
    if (liveStart < 0) continue;
    const live = app.slice(liveStart, app.indexOf('</live>', liveStart) >>> 0);
    for (const m of live.matchAll(/<stream>([\s\S]*?)<\/stream>/g)) {
      const s = m[1] as string;
      const meta = /<meta>([\s\S]*?)<\/meta>/.exec(s)?.[1] ?? '';
      const video = /<video>([\s\S]*?)<\/video>/.exec(meta)?.[1] ?? '';
      const audio = /<audio>([\s\S]*?)<\/audio>/.exec(meta)?.[1] ?? '';
      const clients: StatClient[] = [];
      for (const c of s.matchAll(/<client>([\s\S]*?)<\/client>/g)) {
        const body = c[1] as string;
        clients.push({
          id: tag(body, 'id') ?? '', address: tag(body, 'address') ?? '', timeMs: int(tag(body, 'time')),
          flashver: tag(body, 'flashver') ?? '', publishing: body.includes('<publishing/>'),
        });
      }
      const head = s.slice(0, s.search(/<client>|<meta>|$/));
      out.push({
        app: appName, name: tag(head, 'name') ?? '', timeMs: int(tag(head, 'time')), bytesIn: int(tag(head, 'bytes_in')), bwIn: int(tag(head, 'bw_in')),
        videoCodec: tag(video, 'codec') ?? '', audioCodec: tag(audio, 'codec') ?? '',
        width: int(tag(video, 'width')), height: int(tag(video, 'height')), frameRate: int(tag(video, 'frame_rate')), clients,
      });
    }
  }
  return out;
}
