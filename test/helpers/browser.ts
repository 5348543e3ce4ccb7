import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page, type Request } from 'playwright-core';
import { toolPath } from './system-tools.js';
import { tempDir } from './tmp.js';

// Debian's headless Chromium on a fresh profile, for the dashboard's browser tests (web/dist, built by
// `npm run build`, served by the real app): one page, its uncaught errors and console errors collected,
// and the requests a test wants to look at afterwards.
const root = join(import.meta.dirname, '..', '..');
/** Where the browser tests put their screenshots. */
export const artifacts = join(root, 'test-artifacts');
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** What the dashboard exposes on globalThis for tests (this code is type-checked without the DOM library). */
export interface DashboardWindow {
  __livestats?: {
    charts: Record<string, { getOption(): unknown } | undefined>;
    loads: Record<string, number | undefined>;
  };
}

/** How many times the dashboard's view `name` has loaded so far. */
export const loads = (page: Page, name: string): Promise<number> =>
  page.evaluate((n) => (globalThis as unknown as DashboardWindow).__livestats?.loads[n] ?? 0, name);

export interface BrowserPage {
  context: BrowserContext;
  page: Page;
  /** The requests whose URL `track` accepted, in order. */
  requests: Request[];
  /** Uncaught page errors and console errors (CSP refusals among them), bar failed API responses. */
  pageErrors: string[];
  close(): Promise<void>;
}

export async function openBrowser(options: {
  viewport: { width: number; height: number };
  timezoneId?: string;
  track?: (url: string) => boolean;
}): Promise<BrowserPage> {
  if (!existsSync(join(root, 'web/dist/index.html'))) throw new Error('web/dist is missing: run `npm run build` first');
  mkdirSync(artifacts, { recursive: true });
  const profile = tempDir('livestats-chromium-');
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile.dir, {
      executablePath: toolPath('chromium'), headless: true, args: FLAGS, viewport: options.viewport,
      ...(options.timezoneId === undefined ? {} : { timezoneId: options.timezoneId }),
    });
  } catch (e) {
    profile.remove();
    throw e;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  // Playwright's 30 s default is shorter than a loaded machine's page loads and redraws: every wait is for a condition.
  context.setDefaultTimeout(90_000);
  const requests: Request[] = [];
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
  });
  const track = options.track;
  if (track) {
    page.on('request', (r) => {
      if (track(r.url())) requests.push(r);
    });
  }
  return {
    context, page, requests, pageErrors,
    close: async () => {
      await context.close();
      profile.remove();
    },
  };
}
