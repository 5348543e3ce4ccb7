import { join } from 'node:path';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { authFailed } from '../src/contract/errors.js';
import { resolveServeConfig } from '../src/config.js';
import { demoSample } from '../src/demo/carousel.js';
import { startServer, type RunningServer } from '../src/server.js';
import { tempDir } from './helpers/tmp.js';
import { formatUtcSecond } from '../src/contract/time.js';
import { artifacts, openBrowser, type BrowserPage } from './helpers/browser.js';
import { InMemoryTrafficStandIn, recordOf } from './helpers/traffic-stand-in.js';

// The real dashboard (web/dist, built by `npm run build`, which `npm test` runs first) served by
// the real server in demo mode, driven in Debian's headless Chromium. Chart contents are read
// from the ECharts instances the page exposes on (globalThis as unknown as W).__livestats, not from pixels.
const TOKEN = 'demo-token-for-test';

// Traffic of the last 24 h for the Traffic view, served by InMemoryTrafficStandIn: a test-only
// stand-in for the traffic cube until it lands (the view is tested, not storage). Every 5 minutes,
// play.example.com sends 37,500 B of HTTP-FLV to China Mobile (1000 bps) and hls.example.com
// 75,000 B of HLS to China Telecom (2000 bps); once, play.example.com sends 1,000,000 B of a
// non-stream URI (carrier OTHER) in the newest slot.
const M5 = 300_000;
const traffic = new InMemoryTrafficStandIn();
/** The newest complete 5-minute slot of the stand-in's data. */
let lastSlot = 0;
/**
 * Fills the stand-in relative to `now`. The traffic test fills it again when it starts: the tests
 * before it can take minutes on a busy machine (the demo backfill), and the page's 24 h window
 * keeps the oldest slot only while the page's clock is at most one slot past the data's.
 */
function fillTraffic(now: number): void {
  traffic.records.length = 0;
  lastSlot = Math.floor(now / M5) * M5 - M5;
  for (let k = 0; k < 287; k++) {
    const time = lastSlot - k * M5 + 1000;
    traffic.add(
      recordOf({ project: 'demo', domain: 'play.example.com', uri: '/live/cam1.flv', ip: '203.0.113.1', time, bytes: 37_500, region: 'GD', isp: 'CMCC' }),
      recordOf({ project: 'demo', domain: 'hls.example.com', uri: '/live/cam1-7.ts', ip: '2001:db8::7', time, bytes: 75_000, region: 'BJ', isp: 'CTCC' }),
    );
  }
  traffic.add(recordOf({ project: 'demo', domain: 'play.example.com', uri: '/favicon.ico', ip: '203.0.113.2', time: lastSlot + 2000, bytes: 1_000_000 }));
}
fillTraffic(Date.now());

let server: RunningServer;
let browser: BrowserPage;
let page: Page;
let httpcodes: Request[];
/** Uncaught page errors and console errors (CSP refusals among them), bar failed API responses. */
let pageErrors: string[];
const data = tempDir();

beforeAll(async () => {
  const config = resolveServeConfig({ demo: true, port: '0', data: data.dir, 'log-level': 'silent' }, {});
  // The auth hook stands in for the auth work: only the demo token is accepted.
  server = await startServer(config, {
    dashboardToken: TOKEN,
    authenticate: async (request) => {
      if (request.headers['x-auth-token'] !== TOKEN) throw authFailed();
    },
    traffic,
  });
  // Shanghai (UTC+08:00 all year): "local" and UTC differ by 8 h, as for the operator in the issue.
  browser = await openBrowser({ viewport: { width: 1280, height: 800 }, timezoneId: 'Asia/Shanghai', track: (url) => url.includes('/stats/httpcodes') });
  ({ page, requests: httpcodes, pageErrors } = browser);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  data.remove();
});

/** What the page exposes (this file is type-checked without the DOM library). */
interface W {
  __livestats?: {
    charts: Record<string, { getOption(): unknown; dispatchAction(action: object): void; getZr(): Zr; getDom(): { innerText: string }; getWidth(): number } | undefined>;
    loads: Record<string, number | undefined>;
  };
  innerWidth: number;
  document: { documentElement: { scrollWidth: number } };
}

/** The bits of zrender (ECharts' canvas scene) the overlap check reads. */
interface ZrRect { x: number; y: number; width: number; height: number; clone(): ZrRect; applyTransform(m: unknown): void }
interface ZrClip { getBoundingRect(): ZrRect; getComputedTransform(): unknown }
/** `__clipPaths`: the clip shapes zrender applies when it draws the element (a scrolling legend clips the items of its other pages). */
interface ZrText { type: string; ignore?: boolean; invisible?: boolean; style?: { text?: string; opacity?: number }; getBoundingRect(): ZrRect; getComputedTransform(): unknown; __clipPaths?: ZrClip[] }
interface Zr { storage: { getDisplayList(update: boolean): ZrText[] } }

interface SeriesSummary {
  name: string;
  points: number;
  sum: number;
  markAreas: number;
  colour: string;
}

/** Series of a chart the page exposes, with point counts and sums of the y values. */
async function series(chart: string): Promise<SeriesSummary[]> {
  return page.evaluate((name) => {
    const c = (globalThis as unknown as W).__livestats?.charts[name];
    if (!c) return [];
    const option = c.getOption() as { series?: Array<{ name?: string; data?: unknown[]; markArea?: { data?: unknown[] }; color?: unknown }> };
    return (option.series ?? []).map((s) => {
      const data = s.data ?? [];
      const ys = data.map((d) => (Array.isArray(d) ? Number(d[1]) : Number(d))).filter((v) => Number.isFinite(v));
      return { name: String(s.name), points: data.length, sum: ys.reduce((a, b) => a + b, 0), markAreas: s.markArea?.data?.length ?? 0, colour: String(s.color) };
    });
  }, chart);
}

/** Start (ms) of the newest demo outage that began 10 min to 23 h ago. */
function latestDemoOutage(now: number): number {
  const isDown = (s: number): boolean => demoSample(s * 1000).videoFps === 0;
  for (let s = Math.floor(now / 1000) - 600; s > now / 1000 - 23 * 3600; s--) {
    if (isDown(s) && !isDown(s - 1)) return s * 1000;
  }
  throw new Error('the demo schedule has no outage in the last 23 h (expected about one every 3 h)');
}

/** Waits until the demo backfill has written the window (its first second has a sample). */
async function waitForBackfill(from: number, to: number): Promise<void> {
  const url = `${server.url}/v2/demo/stats/carousel-task/detail?carousel_task_id=demo-carousel&start_time=${formatUtcSecond(from)}&end_time=${formatUtcSecond(to)}`;
  const deadline = Date.now() + 150_000; // a hang catcher: on a busy machine the 24 h backfill has taken 27-90 s
  while (Date.now() < deadline) {
    const body = (await (await fetch(url, { headers: { 'X-Auth-Token': TOKEN } })).json()) as { video_framerate_list?: number[] };
    if ((body.video_framerate_list?.[0] ?? 0) > 0) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('demo backfill did not reach the outage window in 150 s');
}

const loads = (name: string): Promise<number> => page.evaluate((n) => (globalThis as unknown as W).__livestats?.loads[n] ?? 0, name);
const param = (r: Request, key: string): string | null => new URL(r.url()).searchParams.get(key);

/** The text of a chart's tooltip after pointing at one data item. */
async function tooltipAt(chart: string, seriesIndex: number, dataIndex: number): Promise<string> {
  await page.evaluate(([name, si, di]) => (globalThis as unknown as W).__livestats?.charts[name as string]?.dispatchAction({ type: 'showTip', seriesIndex: si, dataIndex: di }), [chart, seriesIndex, dataIndex] as const);
  let text = '';
  await expect.poll(async () => {
    text = await page.evaluate((name) => (globalThis as unknown as W).__livestats?.charts[name]?.getDom().innerText ?? '', chart);
    return text.length > 0;
  }).toBe(true);
  await page.evaluate((name) => (globalThis as unknown as W).__livestats?.charts[name]?.dispatchAction({ type: 'hideTip' }), chart);
  return text;
}

/** Pairs of drawn texts (axis labels, names, legends: zrender draws each as a 'tspan') of a chart whose boxes overlap by more than a pixel. */
async function overlappingTexts(chart: string): Promise<string[]> {
  return page.evaluate((name) => {
    const c = (globalThis as unknown as W).__livestats?.charts[name];
    if (!c) return ['no chart'];
    const texts = c.getZr().storage.getDisplayList(true)
      .filter((e) => (e.type === 'text' || e.type === 'tspan') && !e.ignore && !e.invisible && (e.style?.text ?? '') !== '' && e.style?.opacity !== 0)
      .map((e) => {
        const r = e.getBoundingRect().clone();
        r.applyTransform(e.getComputedTransform());
        // Only the part inside every clip shape is drawn: a legend item of another page lies under the pager, clipped away.
        for (const clip of e.__clipPaths ?? []) {
          const c = clip.getBoundingRect().clone();
          c.applyTransform(clip.getComputedTransform());
          const x0 = Math.max(r.x, c.x);
          const y0 = Math.max(r.y, c.y);
          r.width = Math.max(0, Math.min(r.x + r.width, c.x + c.width) - x0);
          r.height = Math.max(0, Math.min(r.y + r.height, c.y + c.height) - y0);
          r.x = x0;
          r.y = y0;
        }
        return { text: String(e.style?.text), r };
      })
      .filter((t) => t.r.width > 0 && t.r.height > 0);
    const out: string[] = texts.length < 5 ? [`only ${texts.length} texts found`] : [];
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const a = texts[i]!.r;
        const b = texts[j]!.r;
        const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
        const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
        if (w > 1 && h > 1) out.push(`${texts[i]!.text} / ${texts[j]!.text}`);
      }
    }
    return out;
  }, chart);
}

/** `datetime-local` text of an instant in UTC. */
const utcInput = (ms: number): string => new Date(ms).toISOString().slice(0, 16);
/** The same in Shanghai (UTC+08:00, no daylight saving). */
const shanghaiInput = (ms: number): string => utcInput(ms + 8 * 3_600_000);

it('playback view: live demo data in the chart, code table and provinces; filters reach the API', async () => {
  await page.goto(`${server.url}/?refresh=1500#playback`);
  await page.waitForFunction(() => ((globalThis as unknown as W).__livestats?.loads.playback ?? 0) > 0, undefined, { timeout: 60_000 });
  let codes = await series('playback');
  // Demo traffic may still be backfilling the window: wait until the chart shows requests (a hang
  // catcher only, like waitForBackfill's: on a busy machine the backfill has taken 27-90 s).
  // The minute in progress too: on a busy machine the demo's writes of this minute can lag behind the clock.
  const backfilled = Date.now() + 150_000;
  const ready = (): boolean => codes.filter((s) => /^\d{3}$/.test(s.name)).some((s) => s.sum > 0)
    && (codes.find((s) => s.name === 'in progress')?.points ?? 0) >= 1;
  while (Date.now() < backfilled && !ready()) {
    await page.waitForTimeout(500);
    codes = await series('playback');
  }
  const perCode = codes.filter((s) => /^\d{3}$/.test(s.name));
  expect(perCode.map((s) => s.name)).toContain('200');
  expect(perCode.every((s) => s.points >= 60)).toBe(true);
  expect(perCode.reduce((n, s) => n + s.sum, 0)).toBeGreaterThan(0);
  expect(codes.find((s) => s.name.startsWith('error share'))?.points).toBeGreaterThanOrEqual(60);
  expect(codes.find((s) => s.name === '5xx share')?.points).toBeGreaterThanOrEqual(60);
  expect(await page.locator('#pb-table tbody tr').count()).toBe(perCode.length);

  // The minute in progress is not in the stacked series: it is the dashed "in progress" line, and its
  // tooltip says so, with the time in the browser's zone, named.
  const partialIndex = codes.findIndex((s) => s.name === 'in progress');
  const partial = codes[partialIndex];
  expect(partial?.points).toBeGreaterThanOrEqual(1);
  const codeTimes = await page.evaluate(() => {
    const o = (globalThis as unknown as W).__livestats?.charts.playback?.getOption() as { series: Array<{ name: string; data: Array<[number, number]> }> };
    return { stacked: o.series.find((x) => x.name === '200')?.data.map((d) => d[0]) ?? [], partial: o.series.find((x) => x.name === 'in progress')?.data.map((d) => d[0]) ?? [] };
  });
  const newestPartial = codeTimes.partial[codeTimes.partial.length - 1] ?? 0;
  expect(Math.max(...codeTimes.stacked)).toBeLessThan(newestPartial);
  expect(newestPartial + 60_000).toBeGreaterThan(Date.now() - 60_000);
  const tip = await tooltipAt('playback', partialIndex, (partial?.points ?? 1) - 1);
  expect(tip).toContain('in progress');
  expect(tip).toContain('(local, UTC+08:00)');
  expect(await page.locator('#pb-status').textContent()).toMatch(/^Updated \d\d:\d\d:\d\d \(local, UTC\+08:00\)/);

  // Colours are fixed per code: 404 and 499 apart; the health summary has a level.
  const colour = (code: string): string | undefined => codes.find((x) => x.name === code)?.colour;
  expect(colour('200')).toBe('#2e7d32');
  if (colour('404') && colour('499')) expect(colour('404')).not.toBe(colour('499'));
  expect(await page.locator('#pb-health-level').textContent()).toMatch(/^(healthy|degraded|failing|too few requests to judge)$/);

  // Every request carried the demo token from /dashboard/config.json.
  expect(httpcodes.length).toBeGreaterThan(0);
  expect(await httpcodes[0]?.headerValue('x-auth-token')).toBe(TOKEN);
  expect(param(httpcodes[0] as Request, 'play_domains')).toBe('play.example.com,hls.example.com,flv.example.com');

  await page.waitForFunction(() => ((globalThis as unknown as W).__livestats?.loads.provinces ?? 0) > 0, undefined, { timeout: 60_000 });
  const provinces = await series('provinces');
  expect(provinces.map((s) => s.name)).toEqual(['1xx–3xx', '4xx+5xx']);
  expect(provinces[0]?.points).toBeGreaterThan(0);
  expect(provinces[0]?.sum).toBeGreaterThan(0);
  expect(httpcodes.some((r) => param(r, 'region') === 'GD')).toBe(true);

  await page.screenshot({ path: join(artifacts, 'dashboard-playback.png') });

  // Zoom in, then let the auto-refresh run: new data arrives, the zoom stays.
  await page.evaluate(() => (globalThis as unknown as W).__livestats?.charts.playback?.dispatchAction({ type: 'dataZoom', start: 50, end: 100 }));
  const before = await loads('playback');
  await page.waitForFunction((n) => ((globalThis as unknown as W).__livestats?.loads.playback ?? 0) > n, before, { timeout: 60_000 });
  const zoom = await page.evaluate(() => ((globalThis as unknown as W).__livestats?.charts.playback?.getOption() as { dataZoom: Array<{ start: number }> }).dataZoom[0]?.start);
  expect(zoom).toBe(50);

  // Changing the carrier: the main query and the province queries carry isp=CMCC.
  const mainWithIsp = page.waitForRequest((r) => r.url().includes('/stats/httpcodes') && param(r, 'region') === null && param(r, 'isp') === 'CMCC');
  const provinceWithIsp = page.waitForRequest((r) => r.url().includes('/stats/httpcodes') && param(r, 'region') !== null && param(r, 'isp') === 'CMCC');
  await page.selectOption('#pb-isp', 'CMCC');
  await Promise.all([mainWithIsp, provinceWithIsp]);
  const afterIsp = await loads('playback');
  await page.waitForFunction((n) => ((globalThis as unknown as W).__livestats?.loads.playback ?? 0) > n, afterIsp - 1);
  await expect.poll(() => page.locator('#pb-status').textContent()).toMatch(/requests/);

  // A custom window is sent as given; region filter likewise.
  const withRegion = page.waitForRequest((r) => r.url().includes('/stats/httpcodes') && param(r, 'region') === 'SH' && param(r, 'isp') === 'CMCC');
  await page.selectOption('#pb-region', 'SH');
  await withRegion;

  // A domain without traffic: the empty state, an empty table.
  await page.fill('#pb-domains', 'quiet.example.org');
  const quiet = page.waitForResponse((r) => r.url().includes('/stats/httpcodes') && param(r.request(), 'play_domains') === 'quiet.example.org' && param(r.request(), 'region') === 'SH');
  await page.press('#pb-domains', 'Enter');
  await quiet;
  await expect.poll(() => page.locator('#pb-empty').isVisible()).toBe(true);
  expect(await page.locator('#pb-empty').textContent()).toBe('No data for this window');
  expect(await page.locator('#pb-table tbody tr').count()).toBe(0);
  await expect.poll(() => page.locator('#pb-status').textContent()).toContain('never stored (a typo?): quiet.example.org');
  await page.fill('#pb-domains', 'play.example.com, hls.example.com, flv.example.com');
  await page.press('#pb-domains', 'Enter');
  await expect.poll(() => page.locator('#pb-empty').isVisible()).toBe(false);
}, 120_000);

it('state lives in the URL: a reload keeps every filter and the time zone, and asks the API the same', async () => {
  // Left by the test above: demo domains, carrier CMCC, province SH. Now UTC and a custom window.
  await page.selectOption('#tz', 'utc');
  await expect.poll(() => page.locator('#pb-status').textContent()).toMatch(/^Updated \d\d:\d\d:\d\d \(UTC\)/);
  const axisName = async (): Promise<string | undefined> => page.evaluate(() =>
    ((globalThis as unknown as W).__livestats?.charts.playback?.getOption() as { xAxis: Array<{ name?: string }> }).xAxis[0]?.name);
  expect(await axisName()).toBe('time (UTC)');
  const to = Math.floor(Date.now() / 60_000) * 60_000 - 60 * 60_000;
  const from = to - 2 * 60 * 60_000;
  await page.selectOption('#pb-window', 'custom');
  await page.fill('#pb-from', utcInput(from));
  await page.fill('#pb-to', utcInput(to));
  const sent = page.waitForRequest((r) => r.url().includes('/stats/httpcodes') && param(r, 'start_time') === new Date(from).toISOString().replace('.000Z', 'Z') && param(r, 'region') === 'SH');
  await page.click('#pb-filters button[type=submit]');
  const before = await sent;
  const url = new URL(page.url());
  expect(url.hash).toBe('#playback');
  expect(Object.fromEntries([...url.searchParams].filter(([k]) => k !== 'refresh'))).toEqual({
    tz: 'utc', 'pb.window': 'custom', 'pb.region': 'SH', 'pb.isp': 'CMCC',
    'pb.from': new Date(from).toISOString().slice(0, 16) + 'Z', 'pb.to': new Date(to).toISOString().slice(0, 16) + 'Z',
  });

  const again = page.waitForRequest((r) => r.url().includes('/stats/httpcodes') && param(r, 'region') === 'SH');
  await page.reload();
  const after = await again;
  for (const key of ['play_domains', 'start_time', 'end_time', 'region', 'isp']) expect(param(after, key)).toBe(param(before, key));
  expect(await page.inputValue('#pb-from')).toBe(utcInput(from));
  expect(await page.inputValue('#pb-window')).toBe('custom');
  expect(await page.inputValue('#tz')).toBe('utc');
  await page.waitForFunction(() => ((globalThis as unknown as W).__livestats?.loads.playback ?? 0) > 0, undefined, { timeout: 60_000 });
  expect(await axisName()).toBe('time (UTC)');
  expect(await page.locator('#pb-filters [data-tz-label]').first().textContent()).toBe('(UTC)');

  // Back to local time: the From field shows the same instant in Shanghai time; tz leaves the URL.
  await page.selectOption('#tz', 'local');
  expect(await page.inputValue('#pb-from')).toBe(shanghaiInput(from));
  expect(await page.locator('#pb-filters [data-tz-label]').first().textContent()).toBe('(local, UTC+08:00)');
  await expect.poll(() => axisName()).toBe('time (local, UTC+08:00)');
  expect(new URL(page.url()).searchParams.has('tz')).toBe(false);

  // A window over 24 h: refused, and the chart of the previous window is gone, not left under the message.
  await page.fill('#pb-from', shanghaiInput(to - 30 * 3_600_000));
  await page.click('#pb-filters button[type=submit]');
  await expect.poll(() => page.locator('#pb-empty').textContent()).toBe('The window may span at most 24 h.');
  expect(await page.locator('#pb-empty').isVisible()).toBe(true);
  await expect.poll(async () => (await series('playback')).length).toBe(0);
  expect(await page.locator('#pb-table tbody tr').count()).toBe(0);

  // Back to the defaults: they leave the URL.
  await page.selectOption('#pb-window', '1h');
  await page.selectOption('#pb-isp', '');
  await page.selectOption('#pb-region', '');
  await expect.poll(() => [...new URL(page.url()).searchParams.keys()].filter((k) => k !== 'refresh')).toEqual([]);
}, 120_000);

it('carousel view: four per-second lines for the demo task', async () => {
  await page.click('#tab-carousel');
  await page.waitForFunction(() => ((globalThis as unknown as W).__livestats?.loads.carousel ?? 0) > 0, undefined, { timeout: 60_000 });
  const lines = await series('carousel');
  expect(lines.map((s) => s.name)).toEqual(['video fps', 'video kbps', 'audio fps', 'audio kbps']);
  // Last hour, one point per second (the demo may not have backfilled all of it yet, but it has some).
  for (const line of lines) {
    expect(line.points).toBeGreaterThan(3000);
    expect(line.sum).toBeGreaterThan(0);
  }
  expect(await page.locator('#cr-summary').textContent()).toMatch(/outages/);
  await page.screenshot({ path: join(artifacts, 'dashboard-carousel.png') });

  // A window around a demo outage (the demo's schedule is deterministic): it is shaded.
  const outage = latestDemoOutage(Date.now());
  const from = Math.floor(outage / 60_000) * 60_000 - 5 * 60_000;
  await waitForBackfill(from, from + 15 * 60_000);
  const [fromText, toText] = await page.evaluate((ms) => ms.map((t) => {
    const d = new Date(t);
    const p = (n: number): string => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  }), [from, from + 15 * 60_000]);
  await page.selectOption('#cr-window', 'custom');
  await page.fill('#cr-from', fromText ?? '');
  await page.fill('#cr-to', toText ?? '');
  const shown = page.waitForResponse((r) => r.url().includes('/carousel-task/detail') && new URL(r.url()).searchParams.get('start_time') === new Date(from).toISOString().replace('.000Z', 'Z'));
  await page.click('#cr-filters button[type=submit]');
  await shown;
  await expect.poll(async () => (await series('carousel'))[0]?.markAreas ?? 0).toBeGreaterThan(0);
  const shaded = await series('carousel');
  expect(shaded.every((l) => l.points === 900 && l.markAreas > 0)).toBe(true);
  expect(await page.locator('#cr-summary').textContent()).toMatch(/outages\s*[1-9]/);
  await page.screenshot({ path: join(artifacts, 'dashboard-carousel-outage.png') });

  // An unknown task: the API's error_msg is shown.
  await page.fill('#cr-task', 'no-such-task');
  await page.press('#cr-task', 'Enter');
  await expect.poll(() => page.locator('#error').textContent()).toContain('does not exist');
  // ... and the previous task's lines are gone.
  await expect.poll(async () => (await series('carousel')).length).toBe(0);
  expect(await page.locator('#cr-summary').textContent()).toBe('');
}, 240_000);

it('traffic view: bandwidth over time, peak and total per domain, protocol and carrier splits; filters reach the API', async () => {
  const trafficRequests: Request[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/stats/traffic/') || r.url().includes('/stats/bandwidth/')) trafficRequests.push(r);
  });
  fillTraffic(Date.now());
  await page.click('#tab-traffic');
  await page.waitForFunction(() => ((globalThis as unknown as W).__livestats?.loads.traffic ?? 0) > 0, undefined, { timeout: 60_000 });

  // Last 24 h at 5 minutes: 289 slots (the window starts mid-slot); 286 slots at 3000 bps and the
  // newest at (37500 + 75000 + 1000000) x 8 / 300 = 29667 bps.
  // The slot in progress (no traffic yet) is not on the line: it is the dashed "in progress" stretch
  // from the last complete slot, and its tooltip says so.
  const bandwidth = await series('traffic');
  expect(bandwidth.map((b) => b.name)).toEqual(['average bps per 5 min', 'in progress']);
  expect(bandwidth[0]?.points).toBeGreaterThanOrEqual(287);
  expect(bandwidth[0]?.sum).toBe(286 * 3000 + 29_667);
  expect(bandwidth[1]?.points).toBe(2);
  const partialSlot = await page.evaluate(() => ((globalThis as unknown as W).__livestats?.charts.traffic?.getOption() as { series: Array<{ data: Array<[number, number]> }> }).series[1]?.data[1]);
  expect(partialSlot?.[1]).toBe(0);
  expect((partialSlot?.[0] ?? 0) + M5).toBeGreaterThan(lastSlot + M5);
  expect(await tooltipAt('traffic', 1, 1)).toContain('in progress');

  const rows = await page.locator('#tr-table tbody tr').allTextContents();
  expect(rows).toEqual(['hls.example.com2.00 kbps21.5 MB', 'play.example.com27.7 kbps11.8 MB']);
  const bars = async (chart: string): Promise<{ names: string[]; data: number[] }> => page.evaluate((name) => {
    const option = (globalThis as unknown as W).__livestats?.charts[name]?.getOption() as { yAxis: Array<{ data: string[] }>; series: Array<{ data: number[] }> };
    return { names: option.yAxis[0]?.data ?? [], data: option.series[0]?.data ?? [] };
  }, chart);
  expect(await bars('traffic-protocols')).toEqual({ names: ['other', 'HLS', 'HTTP-FLV'], data: [1_000_000, 21_525_000, 10_762_500] });
  expect(await bars('traffic-carriers')).toEqual({
    names: ['Other carriers', 'China Unicom', 'China Telecom', 'China Mobile'], data: [1_000_000, 0, 21_525_000, 10_762_500],
  });
  expect(trafficRequests.every((r) => param(r, 'play_domains') === null)).toBe(true); // empty: every domain
  await page.screenshot({ path: join(artifacts, 'dashboard-traffic.png') });

  // Interval and protocol reach the API; the protocol split still shows every protocol.
  const hourly = page.waitForResponse((r) => r.url().includes('/stats/bandwidth/detail') && param(r.request(), 'interval') === '3600');
  await page.selectOption('#tr-interval', '3600');
  await hourly;
  const hlsOnly = page.waitForResponse((r) => r.url().includes('/stats/bandwidth/detail') && param(r.request(), 'protocol') === 'hls');
  await page.selectOption('#tr-protocol', 'hls');
  await hlsOnly;
  await expect.poll(async () => (await page.locator('#tr-table tbody tr').allTextContents()).join('|'))
    .toBe('hls.example.com2.00 kbps21.5 MB|play.example.com0 bps0 B');
  expect((await bars('traffic-protocols')).data).toEqual([1_000_000, 21_525_000, 10_762_500]);

  // Named domains only; a bad domain gets the API's message.
  await page.fill('#tr-domains', 'quiet.example.org');
  await page.press('#tr-domains', 'Enter');
  await expect.poll(() => page.locator('#tr-empty').isVisible()).toBe(true);
  await page.fill('#tr-domains', 'bad domain!');
  await page.press('#tr-domains', 'Enter');
  await expect.poll(() => page.locator('#error').textContent()).toContain('Invalid request parameter: play_domains');
  await expect.poll(async () => (await series('traffic')).length).toBe(0);
  expect(await page.locator('#tr-table tbody tr').count()).toBe(0);
  await page.fill('#tr-domains', '');
  await page.selectOption('#tr-protocol', '');
  await page.press('#tr-domains', 'Enter');
  await expect.poll(() => page.locator('#error').isVisible()).toBe(false);
}, 120_000);

it('pickers: known domains and tasks from the names route; the carousel says what to do when no task is chosen', async () => {
  await page.click('#tab-traffic');
  await expect.poll(() => page.locator('#tr-pick option').allTextContents()).toEqual(
    ['Add a known domain…', 'flv.example.com', 'hls.example.com', 'play.example.com']);
  const picked = page.waitForRequest((r) => r.url().includes('/stats/bandwidth/detail') && param(r, 'play_domains') === 'play.example.com');
  await page.selectOption('#tr-pick', 'play.example.com');
  await picked;
  expect(await page.inputValue('#tr-domains')).toBe('play.example.com');
  expect(await page.inputValue('#tr-pick')).toBe('');
  expect(new URL(page.url()).searchParams.get('tr.domains')).toBe('play.example.com');
  await page.fill('#tr-domains', '');
  await page.press('#tr-domains', 'Enter');

  await page.click('#tab-carousel');
  await expect.poll(() => page.locator('#cr-pick option').allTextContents()).toEqual(
    ['Pick a known task…', expect.stringMatching(/^demo-carousel \(last sample \d{4}-\d\d-\d\d \d\d:\d\d/)]);
  await page.fill('#cr-task', '');
  await page.press('#cr-task', 'Enter');
  await expect.poll(() => page.locator('#cr-empty').textContent()).toBe('Pick a carousel task above, or type its id.');
  expect(await page.locator('#cr-empty').isVisible()).toBe(true);
  expect((await series('carousel')).length).toBe(0);
  const chosen = page.waitForRequest((r) => r.url().includes('/carousel-task/detail') && param(r, 'carousel_task_id') === 'demo-carousel');
  await page.selectOption('#cr-pick', 'demo-carousel');
  await chosen;
  expect(await page.inputValue('#cr-task')).toBe('demo-carousel');
}, 120_000);

it('is usable on a phone-sized viewport: no sideways scrolling, no overlapping axis labels, the domain input whole', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.click('#tab-playback');
  await page.waitForFunction(() => ((globalThis as unknown as W).__livestats?.loads.playback ?? 0) > 0);
  const overflow = async (): Promise<number> => page.evaluate(() => (globalThis as unknown as W).document.documentElement.scrollWidth - (globalThis as unknown as W).innerWidth);
  await expect.poll(() => overflow()).toBeLessThanOrEqual(0);
  await expect.poll(() => loads('provinces')).toBeGreaterThan(0);
  for (const chart of ['playback', 'provinces']) await expect.poll(async () => [chart, ...(await overlappingTexts(chart))]).toEqual([chart]);
  await page.screenshot({ path: join(artifacts, 'dashboard-playback-phone.png'), fullPage: true });
  // Other phone widths move the scrolling legend's page edge across its items (which items there are
  // depends on the demo's codes of the hour): an item cut at the edge must not count as under the pager.
  const chartWidthNow = (name: string): Promise<number> => page.evaluate((n) => (globalThis as unknown as W).__livestats?.charts[n]?.getWidth() ?? -1, name);
  let drawnWidth = await chartWidthNow('playback');
  for (const width of [320, 340, 360, 375, 412, 390]) {
    await page.setViewportSize({ width, height: 844 });
    const before = drawnWidth;
    await expect.poll(async () => { drawnWidth = await chartWidthNow('playback'); return drawnWidth !== before && drawnWidth <= width; }).toBe(true);
    await expect.poll(async () => [width, ...(await overlappingTexts('playback'))]).toEqual([width]);
  }

  const before = await loads('traffic');
  await page.click('#tab-traffic');
  await page.waitForFunction((n) => ((globalThis as unknown as W).__livestats?.loads.traffic ?? 0) > n, before, { timeout: 60_000 });
  // The charts follow their containers' new width when the ResizeObserver fires: wait for it.
  await expect.poll(() => overflow()).toBeLessThanOrEqual(0);
  const chartWidth = (name: string): Promise<number> => page.evaluate((n) => (globalThis as unknown as W).__livestats?.charts[n]?.getWidth() ?? -1, name);
  for (const chart of ['traffic', 'traffic-protocols', 'traffic-carriers']) await expect.poll(() => chartWidth(chart)).toBeLessThanOrEqual(390);
  for (const chart of ['traffic', 'traffic-protocols', 'traffic-carriers']) await expect.poll(async () => [chart, ...(await overlappingTexts(chart))]).toEqual([chart]);
  for (const id of ['#tr-domains', '#tr-pick', '#tr-window']) {
    const box = await page.locator(id).boundingBox();
    expect(box, id).not.toBeNull();
    expect((box?.x ?? -1) >= 0 && (box?.x ?? 0) + (box?.width ?? 0) <= 390, id).toBe(true);
  }
  expect((await page.locator('#tr-domains').boundingBox())?.width).toBeGreaterThan(300);
  await page.screenshot({ path: join(artifacts, 'dashboard-traffic-phone.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
}, 120_000);

it('a 401 shows the API error_msg and asks to sign in again', async () => {
  await page.click('#sign-out');
  await expect.poll(() => page.locator('#view-signin').isVisible()).toBe(true);
  await page.fill('#signin-project', 'demo');
  await page.fill('#signin-token', 'wrong-token');
  const statsBefore = httpcodes.length;
  const checked = page.waitForResponse((r) => new URL(r.url()).pathname === '/v2/demo/dashboard/names');
  await page.click('#signin-form button[type=submit]');
  expect((await checked).status()).toBe(401);
  await expect.poll(() => page.locator('#error').textContent()).toContain('Authentication failed');
  expect(await page.locator('#view-signin').isVisible()).toBe(true);
  // Refused at the sign-in itself: no view was shown, no stats query was sent with the wrong token.
  expect(httpcodes.length).toBe(statsBefore);
  expect(await page.locator('#tabs').isVisible()).toBe(false);

  await page.fill('#signin-token', TOKEN);
  await page.click('#signin-form button[type=submit]');
  // Back to the view shown before signing out (whichever the tests before left open).
  await expect.poll(() => page.locator('#tabs').isVisible()).toBe(true);
  expect(await page.locator('#view-signin').isVisible()).toBe(false);
  await expect.poll(() => page.locator('#error').isVisible()).toBe(false);

  // A project without carousel tasks: the picker and the view say so instead of four blank panels.
  await page.click('#sign-out');
  await page.fill('#signin-project', 'no-tasks-here');
  await page.fill('#signin-token', TOKEN);
  await page.click('#signin-form button[type=submit]');
  await expect.poll(() => page.locator('#tabs').isVisible()).toBe(true);
  await page.click('#tab-carousel');
  await expect.poll(() => page.locator('#cr-pick option').allTextContents()).toEqual(['No carousel tasks yet']);
  await page.fill('#cr-task', '');
  await page.press('#cr-task', 'Enter');
  await expect.poll(() => page.locator('#cr-empty').textContent()).toBe('This project has no carousel tasks yet: a task appears when its first samples arrive.');
  expect(pageErrors).toEqual([]);
}, 120_000);
