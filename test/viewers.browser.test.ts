import { join } from 'node:path';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { InMemoryAudienceStandIn } from './helpers/audience-stand-in.js';
import { artifacts, loads as loadsOf, openBrowser, type BrowserPage, type DashboardWindow as W } from './helpers/browser.js';

// The real dashboard (web/dist, built by `npm run build`) served by the real app, driven in Debian's
// headless Chromium: the Viewers view. Its data comes from InMemoryAudienceStandIn (test code: the
// view is tested here, not storage). Chart contents are read from the ECharts instance the page
// exposes on __livestats, not from pixels.
const M = 60_000;

// Every minute of the last hour (through the newest complete one): play.example.com has 100 HTTP-FLV
// viewers of cam1 in Guangdong on China Mobile, 50 HLS viewers of cam1 in Beijing on China Telecom and
// 20 HTTP-FLV viewers of cam2 in Shanghai on China Unicom; hls.example.com 30 HLS viewers of news in
// Guangdong on China Telecom; the same for the next 15 minutes (the API leaves out minutes that have
// not begun; the view asks for the newest complete minute, which moves on while the test runs).
// The day before yesterday, 12:00-12:04 UTC, cam1 had 7 HTTP-FLV viewers.
const now = Date.now();
const newest = Math.floor(now / M) * M - M;
const audience = new InMemoryAudienceStandIn();
for (let k = -15; k < 60; k++) {
  const minute = newest - k * M;
  audience.add(
    { domain: 'play.example.com', stream: 'cam1', protocol: 'flv', region: 'GD', isp: 'CMCC', minute, online: 100, bytes: 750_000 },
    { domain: 'play.example.com', stream: 'cam1', protocol: 'hls', region: 'BJ', isp: 'CTCC', minute, online: 50, bytes: 375_000 },
    { domain: 'play.example.com', stream: 'cam2', protocol: 'flv', region: 'SH', isp: 'CUCC', minute, online: 20, bytes: 1_500_000 },
    { domain: 'hls.example.com', stream: 'news', protocol: 'hls', region: 'GD', isp: 'CTCC', minute, online: 30, bytes: 3_000_000 },
  );
}
// The portrait's day is the day before yesterday: the live minutes above reach 60 minutes back, into
// yesterday when the test runs just after UTC midnight.
const pastNoon = Math.floor(now / 86_400_000) * 86_400_000 - 36 * 3_600_000;
const pastDay = new Date(pastNoon).toISOString().slice(0, 10);
for (let k = 0; k < 5; k++) audience.add({ domain: 'play.example.com', stream: 'cam1', protocol: 'flv', minute: pastNoon + k * M, online: 7, bytes: 1000 });

let app: TestApp;
let browser: BrowserPage;
let page: Page;
let requests: Request[];
let pageErrors: string[];
const loads = (name: string): Promise<number> => loadsOf(page, name);

beforeAll(async () => {
  app = await startTestApp({ audience, dashboard: { demo: true, project: 'p1' } });
  browser = await openBrowser({ viewport: { width: 1280, height: 900 }, track: (url) => url.includes('/v2/') });
  ({ page, requests, pageErrors } = browser);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

interface Line {
  id: string;
  name: string;
  dashed: boolean;
  points: number;
  max: number;
  firstTime: number;
  markAreas: number;
}

async function lines(): Promise<Line[]> {
  return page.evaluate(() => {
    const c = (globalThis as unknown as W).__livestats?.charts.viewers;
    if (!c) return [];
    const option = c.getOption() as {
      series?: Array<{ id?: string; name?: string; data?: Array<[number, number]>; lineStyle?: { type?: string }; markArea?: { data?: unknown[] } }>;
    };
    return (option.series ?? []).map((s) => {
      const data = s.data ?? [];
      return {
        id: String(s.id), name: String(s.name), dashed: s.lineStyle?.type === 'dashed', points: data.length,
        max: Math.max(0, ...data.map((d) => d[1])), firstTime: data[0]?.[0] ?? 0, markAreas: s.markArea?.data?.length ?? 0,
      };
    });
  });
}
const cells = (): Promise<string[][]> => page.locator('#vw-streams tbody tr').evaluateAll((rows) =>
  rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent ?? '')));

it('viewers view: online viewers by domain and protocol with a provisional tail, the live streams sortable, a past day\'s portrait', async () => {
  await page.goto(`${app.url}/?refresh=1500#viewers`);
  await page.waitForFunction(() => ((globalThis as unknown as W).__livestats?.loads.viewers ?? 0) > 0, undefined, { timeout: 60_000 });

  // By domain (the default), the domains taken from the live streams: each a settled line and a dashed provisional one.
  const shown = await lines();
  expect(shown.map((l) => [l.name, l.dashed])).toEqual([
    ['play.example.com', false], ['play.example.com', true], ['hls.example.com', false], ['hls.example.com', true],
  ]);
  expect(shown.map((l) => l.max)).toEqual([170, 170, 30, 30]);
  // The last 10 minutes (and the minute under way) may still grow: provisional, shaded.
  const provisional = shown[1] as Line;
  expect(provisional.firstTime).toBeGreaterThanOrEqual(Math.floor((now - 10 * M) / M) * M);
  expect(provisional.firstTime).toBeLessThanOrEqual(Math.floor((Date.now() - 10 * M) / M) * M);
  expect(provisional.markAreas).toBe(1);
  expect(shown[0]?.points).toBeGreaterThan(45);
  const users = requests.filter((r) => r.url().includes('/stats/user?'));
  expect(users.every((r) => new URL(r.url()).searchParams.get('interval') === '60')).toBe(true);

  // The newest complete minute's live streams, busiest first; sortable by any column.
  await expect.poll(cells).toEqual([
    ['play.example.com', 'cam1', 'flv', '100 kbps', '100'],
    ['play.example.com', 'cam1', 'hls', '50.0 kbps', '50'],
    ['hls.example.com', 'news', 'hls', '400 kbps', '30'],
    ['play.example.com', 'cam2', 'flv', '200 kbps', '20'],
  ].map((r) => r.map((c) => expect.stringContaining(c.replace(/ kbps$/, ''))) as unknown as string[]));
  await page.click('#vw-streams button[data-sort="bandwidth"]');
  expect((await cells()).map((r) => r[1])).toEqual(['news', 'cam2', 'cam1', 'cam1']);
  await page.click('#vw-streams button[data-sort="bandwidth"]');
  expect((await cells()).map((r) => r[1])).toEqual(['cam1', 'cam1', 'cam2', 'news']);
  await page.click('#vw-streams button[data-sort="stream"]');
  expect((await cells()).map((r) => r[1])).toEqual(['cam1', 'cam1', 'cam2', 'news']);

  // By protocol at 5 minutes: HTTP-FLV 120 and HLS 80 (RTMP has none and is left out); HLS only: only the slot under way is provisional.
  const before = await loads('viewers');
  await page.selectOption('#vw-interval', '300');
  await page.selectOption('#vw-split', 'protocol');
  await page.waitForFunction((n) => ((globalThis as unknown as W).__livestats?.loads.viewers ?? 0) > n, before + 1, { timeout: 60_000 });
  await expect.poll(async () => (await lines()).map((l) => `${l.name}:${l.max}`)).toEqual(['HTTP-FLV:120', 'HTTP-FLV:120', 'HLS:80', 'HLS:80']);
  expect(requests.some((r) => r.url().includes('/stats/user?') && new URL(r.url()).searchParams.get('protocol') === 'rtmp')).toBe(true);
  await page.screenshot({ path: join(artifacts, 'dashboard-viewers.png') });

  // By carrier, HLS only: China Telecom 80 (50 + 30); the provisional part is only the slot under way.
  const n2 = await loads('viewers');
  await page.selectOption('#vw-protocol', 'hls');
  await page.selectOption('#vw-split', 'isp');
  await page.waitForFunction((n) => ((globalThis as unknown as W).__livestats?.loads.viewers ?? 0) > n, n2 + 1, { timeout: 60_000 });
  await expect.poll(async () => (await lines()).map((l) => `${l.name}:${l.max}`)).toEqual(['China Telecom:80', 'China Telecom:80']);
  const slotUnderWay = (await lines())[1]?.firstTime ?? 0;
  expect(slotUnderWay).toBeGreaterThanOrEqual(Math.floor(now / 300_000) * 300_000);
  expect(slotUnderWay).toBeLessThanOrEqual(Math.floor(Date.now() / 300_000) * 300_000);

  // Yesterday's portrait of cam1.
  await page.fill('#vw-portrait-domain', 'play.example.com');
  await page.fill('#vw-portrait-stream', 'cam1');
  // The day defaults to yesterday; the test's portrait is the day before.
  // (The page took its day when it loaded, after the file's `now` and before this line: UTC midnight may lie between.)
  const yesterdays = [now, Date.now()].map((t) => new Date(t - 86_400_000).toISOString().slice(0, 10));
  expect(yesterdays).toContain(await page.inputValue('#vw-portrait-day'));
  await page.fill('#vw-portrait-day', pastDay);
  const before3 = await loads('viewers-portrait');
  await page.click('#vw-portrait-form button[type=submit]');
  await page.waitForFunction((n) => ((globalThis as unknown as W).__livestats?.loads['viewers-portrait'] ?? 0) > n, before3, { timeout: 60_000 });
  expect(await page.locator('#vw-portrait dd[data-key="Peak online viewers"]').textContent()).toBe('7');
  expect(await page.locator('#vw-portrait dd[data-key="Time watched"]').textContent()).toBe('35 min 00 s');
  const portrait = requests.filter((r) => r.url().includes('/stats/stream-portraits?')).at(-1);
  expect(new URL(portrait?.url() ?? 'http://x/').searchParams.get('time')).toBe(pastDay.replace(/-/g, ''));
  expect(pageErrors).toEqual([]);
}, 180_000);
