import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page, type Request } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PublishSession } from '../src/store/origin.js';
import type { QualityRow } from '../src/store/stream-quality.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { InMemoryAudienceStandIn } from './helpers/audience-stand-in.js';
import { toolPath } from './helpers/system-tools.js';
import { tempDir } from './helpers/tmp.js';

// The real dashboard (web/dist, built by `npm run build`) served by the real app on a real SQLite file,
// driven in Debian's headless Chromium: the Streams view. Publish sessions and per-second quality are
// written through the real store (writeOrigin / writeQuality); the viewers come from
// InMemoryAudienceStandIn (test code, as in test/viewers.browser.test.ts: the audience cube is tested
// elsewhere). Chart contents are read from the ECharts instance the page exposes on __livestats.
const root = join(import.meta.dirname, '..');
const artifacts = join(root, 'test-artifacts');
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const S = 1000;
const M = 60_000;
const PUSH = 'push.example.com';

const now = Date.now();
const session = (id: string, more: Partial<PublishSession>): PublishSession => ({
  project: 'p1', id, domain: PUSH, app: 'live', stream: 'cam1', clientIp: '203.0.113.5', type: 0, region: 'GD', isp: 'CTCC',
  videoCodec: 'H264', audioCodec: 'AAC', frameRate: 25, bitrate: 1500, width: 1280, height: 720, start: now - 2 * 3_600_000, end: null,
  origin: 'origin-a', updatedAt: now, bytesIn: 0, ...more,
});
// Live: cam1 (since 2 h) and cam2 (since 30 min, newest, so the default chart stream); 11 closed
// sessions of "old<k>" in the last hour and one relay: 13 overlap the 1-hour window (2 history pages).
// Another project's live stream on the same domain must not show.
const sessions: PublishSession[] = [
  session('cam1', {}),
  session('cam2', { stream: 'cam2', clientIp: '198.51.100.7', videoCodec: 'HEVC', audioCodec: '', frameRate: 30, bitrate: 800, width: 640, height: 360, start: now - 30 * M }),
  ...Array.from({ length: 10 }, (_, k) => session(`old${k}`, { stream: `old${k}`, start: now - (50 - k) * M, end: now - (45 - k) * M })),
  session('relay', { stream: 'relay1', type: 1, clientIp: '192.0.2.9', start: now - 55 * M, end: now - 52 * M }),
  session('p2', { project: 'p2', stream: 'secret', start: now - M }),
];
// cam1: 120 seconds from 5 minutes ago at 25 fps and 1500 kbit/s, broken at seconds 60..64 (missing or zero).
const t0 = Math.floor(now / S) * S - 5 * M;
const quality: QualityRow[] = [];
for (let i = 0; i < 120; i++) {
  const broken = i >= 60 && i < 65;
  if (broken && i % 2 === 0) continue;
  quality.push({
    project: 'p1', domain: PUSH, app: 'live', stream: 'cam1', second: t0 + i * S, videoFps: broken ? 0 : 25, videoKbps: broken ? 0 : 1500,
    audioFps: broken ? 0 : 43, audioKbps: broken ? 0 : 128, gopMs: 2000, lastVideoPtsMs: i * S, lastAudioPtsMs: i * S, delayMs: 30,
  });
}
// Viewers of cam1 on two play domains and protocols (40 + 2) in every minute around now; cam2 has none.
const audience = new InMemoryAudienceStandIn();
const newest = Math.floor(now / M) * M - M;
for (let k = -15; k < 15; k++) {
  audience.add(
    { domain: 'play.example.com', stream: 'cam1', protocol: 'flv', minute: newest - k * M, online: 40, bytes: 1000 },
    { domain: 'hls.example.com', stream: 'cam1', protocol: 'hls', minute: newest - k * M, online: 2, bytes: 1000 },
  );
}

let app: TestApp;
let context: BrowserContext;
let page: Page;
const profile = tempDir('livestats-chromium-');
const requests: Request[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(join(root, 'web/dist/index.html'))) throw new Error('web/dist is missing: run `npm run build` first');
  mkdirSync(artifacts, { recursive: true });
  app = await startTestApp({ audience, dashboard: { demo: true, project: 'p1' } });
  await app.store.writeOrigin({ sessions, upBytes: [] });
  await app.store.writeQuality(quality);
  context = await chromium.launchPersistentContext(profile.dir, {
    executablePath: toolPath('chromium'), headless: true, args: FLAGS, viewport: { width: 1280, height: 1000 }, timezoneId: 'Asia/Shanghai',
  });
  page = context.pages()[0] ?? (await context.newPage());
  // Playwright's 30 s default is shorter than a loaded machine's page loads and redraws: every wait is for a condition.
  context.setDefaultTimeout(90_000);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
  });
  page.on('request', (r) => {
    if (/\/v[12]\//.test(r.url())) requests.push(r);
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await app?.close();
  profile.remove();
});

interface W {
  __livestats?: {
    charts: Record<string, { getOption(): unknown } | undefined>;
    loads: Record<string, number | undefined>;
  };
}
interface Line {
  id: string;
  values: number;
  nulls: number;
  /** The times either side of each null (the last second before a break, the first after it). */
  around: Array<[number, number]>;
  markAreas: number;
}

async function lines(): Promise<Line[]> {
  return page.evaluate(() => {
    const c = (globalThis as unknown as W).__livestats?.charts.streams;
    if (!c) return [];
    const option = c.getOption() as { series?: Array<{ id?: string; data?: Array<[number, number | null]>; markArea?: { data?: unknown[] } }> };
    return (option.series ?? []).map((s) => {
      const data = s.data ?? [];
      const around: Array<[number, number]> = [];
      data.forEach((d, i) => {
        if (d[1] === null) around.push([data[i - 1]?.[0] ?? NaN, data[i + 1]?.[0] ?? NaN]);
      });
      return {
        id: String(s.id), values: data.filter((d) => d[1] !== null).length, nulls: data.filter((d) => d[1] === null).length, around,
        markAreas: s.markArea?.data?.length ?? 0,
      };
    });
  });
}
const loads = (name: string): Promise<number> => page.evaluate((n) => (globalThis as unknown as W).__livestats?.loads[n] ?? 0, name);
const after = async (name: string, n: number): Promise<void> => {
  await page.waitForFunction(([k, v]) => ((globalThis as unknown as W).__livestats?.loads[k as string] ?? 0) > (v as number), [name, n], { timeout: 60_000 });
};
/** "YYYY-MM-DD HH:MM[:SS]" of `ms` at a UTC offset of `hours`, as the dashboard writes times. */
function at(ms: number, hours: number): string {
  const t = new Date(Math.floor(ms / S) * S + hours * 3_600_000).toISOString();
  return `${t.slice(0, 10)} ${t.slice(11, 16)}${t.slice(17, 19) === '00' ? '' : t.slice(16, 19)}`;
}
const cells = (id: string): Promise<string[][]> => page.locator(`#${id} tbody tr`).evaluateAll((rows) =>
  rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent ?? '')));

it('streams view: live table with viewers, a break drawn as a gap, history paging, an error clearing the chart', async () => {
  await page.goto(`${app.url}/?refresh=60000&st.domain=${PUSH}#streams`);
  await after('streams', 0);

  // Live now: newest first, publisher, codecs, size, fps, bitrate, viewers (cam1: 40 + 2 over two play domains).
  const live = await cells('st-live');
  expect(live.map((r) => r.slice(0, 8))).toEqual([
    ['live', 'cam2', '198.51.100.7', 'HEVC', '640x360', '30', '800 kbps', '0'],
    ['live', 'cam1', '203.0.113.5', 'H264 / AAC', '1280x720', '25', '1,500 kbps', '42'],
  ]);
  expect(live[0]?.[8]).toMatch(/^(29|30) min \d\d s$/);
  expect(await page.locator('#view-streams').textContent()).toContain('Viewers: online in the minute');
  const onlineReq = requests.find((r) => r.url().includes('/v1/p1/realtime/streams?'));
  expect(new URL(onlineReq?.url() ?? 'http://x/').searchParams.get('publish_domain')).toBe(PUSH);

  // The default chart stream is the newest live one (cam2): no probe data, an empty chart that says so.
  await expect.poll(async () => (await lines()).map((l) => l.values)).toEqual([0, 0]);
  expect(await page.locator('#view-streams .empty').isVisible()).toBe(true);

  // History: 13 sessions in the last hour, 10 a page; the next page has the oldest 3, the relay last.
  expect(await page.locator('#st-page-text').textContent()).toBe('page 1 of 2 (13 sessions)');
  expect((await cells('st-history')).map((r) => r[1])).toEqual(['cam2', 'old9', 'old8', 'old7', 'old6', 'old5', 'old4', 'old3', 'old2', 'old1']);
  expect(await page.locator('#st-prev').isDisabled()).toBe(true);
  const h1 = await loads('streams-history');
  await page.click('#st-next');
  await after('streams-history', h1);
  expect(await page.locator('#st-page-text').textContent()).toBe('page 2 of 2 (13 sessions)');
  const older = await cells('st-history');
  expect(older.map((r) => [r[1], r[2], r[7]])).toEqual([['old0', 'publish', '5 min 00 s'], ['relay1', 'relay', '3 min 00 s'], ['cam1', 'publish', expect.stringMatching(/^2 h 0\d min$/)]]);
  expect(await page.locator('#st-next').isDisabled()).toBe(true);
  // Times in the chosen zone: the browser's (Asia/Shanghai, +08:00), then UTC from the header (the page is kept).
  expect(older[0]?.[5]).toBe(at(now - 50 * M, 8));
  expect(await page.locator('#view-streams [data-tz-label]').textContent()).toBe('(local, UTC+08:00)');
  const h2 = await loads('streams-history');
  await page.selectOption('#tz', 'utc');
  await after('streams-history', h2);
  expect((await cells('st-history'))[0]?.[5]).toBe(at(now - 50 * M, 0));
  expect(await page.locator('#view-streams [data-tz-label]').textContent()).toBe('(UTC)');
  expect(await page.locator('#st-page-text').textContent()).toBe('page 2 of 2 (13 sessions)');
  expect(new URL(page.url()).searchParams.get('st.page')).toBe('1');
  const historyReq = requests.filter((r) => r.url().includes('/stats/history/streams?')).at(-1);
  expect(new URL(historyReq?.url() ?? 'http://x/').searchParams.get('offset')).toBe('1');

  // cam1 picked from the live table: 120 seconds with a 5-second break, drawn as two segments (a null between them), the break shaded.
  const c1 = await loads('streams-chart');
  await page.click('#st-live button.link:text-is("cam1")');
  await after('streams-chart', c1);
  const drawn = await lines();
  expect(drawn.map((l) => [l.id, l.values, l.nulls, l.markAreas])).toEqual([['fps', 115, 1, 1], ['kbps', 115, 1, 1]]);
  expect(drawn[0]?.around).toEqual([[t0 + 59 * S, t0 + 65 * S]]);
  expect(new URL(page.url()).searchParams.get('st.stream')).toBe('cam1');
  expect(new URL(page.url()).searchParams.get('st.page')).toBeNull();
  await expect.poll(async () => (await cells('st-history')).map((r) => r[1])).toEqual(['cam1']);
  await page.screenshot({ path: join(artifacts, 'dashboard-streams.png') });

  // A refused query (a stream name over 256 characters) clears the chart and shows the API's message.
  const n = await loads('streams');
  await page.fill('#st-stream', 'x'.repeat(300));
  await page.press('#st-stream', 'Enter');
  await after('streams', n);
  expect((await lines()).every((l) => l.values === 0)).toBe(true);
  expect(await page.locator('#error').textContent()).toBe('Invalid request parameter: stream');
  expect(pageErrors).toEqual([]);
}, 120_000);
