import './streams.css';
import type { LineSeriesOption } from 'echarts/charts';
import type { GridComponentOption } from 'echarts/components';
import { apiGet, apiGetV1, type Endpoint } from './api.js';
import { clearChart, createChart, timeTooltip, zoneOption, type Chart, type Option } from './charts.js';
import { clock, el, input, integer, label, mountView } from './dom.js';
import { Poller } from './poller.js';
import { parseDomains } from './session.js';
import { countLoad, hooks, type Shell } from './shell.js';
import {
  breaks, codecs, formatKbps, formatSpan, hasNext, pageLabel, parseHistory, parseOnline, parseRuns, runPoints, withViewers,
  type LiveRow, type Run,
} from './streams-shape.js';
import { HOUR, MINUTE, formatApiTime } from './timewin.js';
import { formatDateTime, labelZone } from './tz.js';
import { UrlState } from './urlstate.js';
import { parsePlayInfo } from './viewers-shape.js';

/** Windows of the per-second charts and the history (the per-second endpoints answer at most 1 day). */
const WINDOWS: Record<string, number> = { '10m': 10 * MINUTE, '1h': HOUR, '6h': 6 * HOUR, '24h': 24 * HOUR };
/** Live streams listed (the API's largest page). */
const LIVE_LIMIT = 100;
const HISTORY_LIMIT = 10;
const BREAK_FILL = 'rgba(198, 40, 40, 0.10)';
const PANELS = [
  { key: 'fps', name: 'video fps', colour: '#1565c0', format: (v: number) => v.toFixed(v % 1 === 0 ? 0 : 1) },
  { key: 'kbps', name: 'video kbps', colour: '#6a1b9a', format: formatKbps },
] as const;

function row(cells: Array<string | HTMLElement>, numeric: ReadonlySet<number>): HTMLTableRowElement {
  const tr = el('tr');
  cells.forEach((c, i) => {
    const td = el('td', undefined, numeric.has(i) ? 'num' : undefined);
    td.append(c);
    tr.append(td);
  });
  return tr;
}
function table(id: string, heads: string[], numeric: ReadonlySet<number>): HTMLTableElement {
  const t = el('table', undefined, 'codes');
  t.id = id;
  const tr = el('tr');
  heads.forEach((h, i) => tr.append(el('th', h, numeric.has(i) ? 'num' : undefined)));
  t.append(el('thead'), el('tbody'));
  t.tHead?.append(tr);
  return t;
}

/**
 * Streams view (the publish side): the streams live now with their publisher, codecs, size, frame rate,
 * bitrate and viewers; one stream's per-second frame rate and bitrate with every break left as a gap;
 * the publish sessions of the window, paged. Everything comes from the public publish-side endpoints
 * (and play-info for the viewers). The view builds its own section.
 */
export class StreamsView {
  readonly section = el('section');
  private readonly domain = input('st-domain', 'push.example.com');
  private readonly app = input('st-app', 'all apps');
  private readonly stream = input('st-stream', 'default: the newest live stream');
  private readonly windowSel = el('select');
  /** The history page (0-based), kept in the URL with the filters. */
  private readonly page = el('input');
  private readonly status = el('p', '', 'status');
  private readonly liveTable = table('st-live', ['App', 'Stream', 'Publisher', 'Codecs', 'Resolution', 'FPS', 'Bitrate', 'Viewers', 'Live for'], new Set([5, 6, 7, 8]));
  private readonly liveNote = el('p', '', 'hint');
  private readonly chartTitle = el('span', '', 'hint');
  private readonly chartBox = el('div', undefined, 'chart tall');
  private readonly empty = el('div', 'No probe data for this stream in the window', 'empty');
  private readonly historyTable = table('st-history', ['App', 'Stream', 'Type', 'Publisher', 'Codecs', 'Start', 'End', 'Duration'], new Set([7]));
  private readonly prev = el('button', '← Newer');
  private readonly next = el('button', 'Older →');
  private readonly pageText = el('span', '', 'hint');
  private readonly chart: Chart;
  private readonly poller: Poller;
  private readonly state: UrlState;
  private historyLoad: AbortController | undefined;

  constructor(private readonly shell: Shell) {
    this.section.id = 'view-streams';
    this.section.hidden = true;
    this.windowSel.id = 'st-window';
    for (const [v, l] of [['10m', 'Last 10 minutes'], ['1h', 'Last 1 hour'], ['6h', 'Last 6 hours'], ['24h', 'Last 24 hours']]) this.windowSel.append(new Option(l, v));
    this.windowSel.value = '1h';
    this.page.type = 'hidden';
    this.page.id = 'st-page';
    this.page.value = '0';
    const form = el('form', undefined, 'filters');
    form.id = 'st-filters';
    form.autocomplete = 'off';
    const apply = el('button', 'Apply');
    apply.type = 'submit';
    form.append(label('Publish domain', this.domain, 'wide'), label('App', this.app), label('Stream', this.stream), label('Window', this.windowSel), this.page, apply);

    const liveTitle = el('h2', 'Live now ');
    const liveCard = el('div', undefined, 'card');
    liveCard.append(liveTitle, this.liveTable, this.liveNote);

    const chartHead = el('h2', 'Per second ');
    chartHead.append(this.chartTitle);
    const legend = el('p', 'Shaded, no line: a break (seconds without packets from the probe). Times in ', 'hint');
    const tz = el('span');
    tz.dataset.tzLabel = '';
    legend.append(tz, '.');
    const wrap = el('div', undefined, 'chart-wrap');
    this.empty.hidden = true;
    wrap.append(this.chartBox, this.empty);
    const chartCard = el('div', undefined, 'card');
    chartCard.append(chartHead, legend, wrap);

    this.prev.type = 'button';
    this.prev.id = 'st-prev';
    this.next.type = 'button';
    this.next.id = 'st-next';
    this.pageText.id = 'st-page-text';
    const pager = el('p', undefined, 'pager');
    pager.append(this.prev, ' ', this.pageText, ' ', this.next);
    const historyCard = el('div', undefined, 'card');
    historyCard.append(el('h2', 'History (publish sessions in the window, newest first)'), this.historyTable, pager);

    this.section.append(form, this.status, liveCard, chartCard, historyCard);

    this.state = new UrlState('st', { domain: this.domain, app: this.app, stream: this.stream, window: this.windowSel, page: this.page });
    this.state.restore();
    this.chart = createChart(this.chartBox);
    this.chart.setOption(base());
    hooks().charts.streams = this.chart;
    this.poller = new Poller((signal) => this.load(signal), shell.refreshMs);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.reload(true);
    });
    for (const i of [this.domain, this.app, this.stream, this.windowSel]) i.addEventListener('change', () => this.reload(true));
    this.prev.addEventListener('click', () => this.turn(-1));
    this.next.addEventListener('click', () => this.turn(1));
  }

  /** Adds the view's tab and section to the page (the shell's #tabs and <main>). */
  mount(tabs: HTMLElement, main: HTMLElement): void {
    mountView(tabs, main, 'streams', 'Streams', this.section);
  }

  show(): void {
    labelZone(this.section);
    this.reload(false);
  }

  hide(): void {
    this.poller.stop();
    this.historyLoad?.abort();
  }

  /** Loads everything again; a filter change (`fresh`) goes back to the newest history page. */
  reload(fresh: boolean): void {
    if (fresh) this.page.value = '0';
    this.state.save();
    this.chart.showLoading();
    void this.poller.now();
  }

  private get pageNo(): number {
    const n = Number(this.page.value);
    return Number.isInteger(n) && n >= 0 && n <= 1_000_000 ? n : 0;
  }

  private turn(by: number): void {
    this.page.value = String(Math.max(0, this.pageNo + by));
    this.state.save();
    this.historyLoad?.abort();
    const c = new AbortController();
    this.historyLoad = c;
    void this.loadHistory(c.signal).catch((err: unknown) => {
      if ((err as Error).name !== 'AbortError') this.shell.fail(err);
    });
  }

  private params(p: Record<string, string>): URLSearchParams {
    const out = new URLSearchParams();
    for (const [k, v] of Object.entries(p)) if (v !== '') out.set(k, v);
    return out;
  }

  private get(endpoint: Endpoint, p: Record<string, string>, signal?: AbortSignal): Promise<unknown> {
    return apiGet(this.shell.session(), endpoint, this.params(p), signal);
  }

  private window(): { start: string; end: string } {
    const end = Math.floor(Date.now() / 1000) * 1000;
    return { start: formatApiTime(end - (WINDOWS[this.windowSel.value] ?? HOUR)), end: formatApiTime(end) };
  }

  /** Nothing to draw: the previous answer goes and `why` is shown. */
  private clear(why: string): void {
    clearChart(this.chart);
    this.empty.textContent = why;
    this.empty.hidden = false;
  }

  private async load(signal: AbortSignal): Promise<boolean> {
    const domain = parseDomains(this.domain.value)[0];
    if (!domain) {
      this.chart.hideLoading();
      this.clear('Enter a publish domain');
      this.liveTable.tBodies[0]?.replaceChildren();
      this.historyTable.tBodies[0]?.replaceChildren();
      this.status.textContent = 'Enter the publish domain to show (the domain publishers push to).';
      return false;
    }
    let failed: unknown;
    const live = await this.loadLive(domain, signal).catch((err: unknown) => {
      if ((err as Error).name === 'AbortError') throw err;
      // An error must not leave the previous answer shown.
      this.liveTable.tBodies[0]?.replaceChildren();
      this.liveNote.textContent = '';
      failed ??= err;
      return undefined;
    });
    try {
      await this.loadCharts(domain, live, signal);
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      this.clear('The per-second series could not be loaded');
      failed ??= err;
    } finally {
      this.chart.hideLoading();
    }
    await this.loadHistory(signal).catch((err: unknown) => {
      if ((err as Error).name === 'AbortError') throw err;
      failed ??= err;
    });
    if (failed === undefined) {
      this.shell.ok();
      this.status.textContent = `Updated ${clock(Date.now())} · refreshes every ${Math.round(this.shell.refreshMs / 1000)} s`;
    } else {
      this.shell.fail(failed);
      this.status.textContent = `Last attempt failed at ${clock(Date.now())}`;
    }
    countLoad('streams');
    return true;
  }

  /** The live table; answers its rows (for the default chart stream). */
  private async loadLive(domain: string, signal: AbortSignal): Promise<LiveRow[]> {
    const online = parseOnline(await apiGetV1(this.shell.session(), 'realtime/streams', this.params({
      publish_domain: domain, app: this.app.value.trim(), limit: String(LIVE_LIMIT),
    }), signal));
    // Viewers: the newest complete minute's play-info (the audience endpoints); without it, say so.
    const minute = Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE;
    let note = `Viewers: online in the minute ${clock(minute)}, matched by stream name over all play domains.`;
    let play;
    try {
      play = parsePlayInfo(await this.get('stats/stream/play-info', { time: formatApiTime(minute) }, signal)).streams;
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      note = `Viewers unavailable: ${(err as Error).message}`;
    }
    const rows = withViewers(online.streams, play);
    const now = Date.now();
    this.liveTable.tBodies[0]?.replaceChildren(...rows.map((r) => {
      const pick = el('button', r.stream, 'link');
      pick.type = 'button';
      pick.title = 'Show this stream per second';
      pick.addEventListener('click', () => {
        this.app.value = r.app;
        this.stream.value = r.stream;
        this.reload(true);
      });
      return row([
        r.app, pick, r.clientIp, codecs(r.videoCodec, r.audioCodec), r.resolution || '—', integer(r.fps), formatKbps(r.kbps),
        r.viewers === undefined ? '—' : integer(r.viewers), formatSpan((now - r.start) / 1000),
      ], new Set([5, 6, 7, 8]));
    }));
    if (rows.length === 0) this.liveTable.tBodies[0]?.append(row(['No stream is being published on this domain now.'], new Set()));
    const more = online.total > rows.length ? ` Showing the newest ${rows.length} of ${online.total}.` : '';
    this.liveNote.textContent = `${note}${more}`;
    countLoad('streams-live');
    return rows;
  }

  private async loadCharts(domain: string, live: LiveRow[] | undefined, signal: AbortSignal): Promise<void> {
    let app = this.app.value.trim();
    let stream = this.stream.value.trim();
    if (!stream) {
      const first = live?.find((r) => app === '' || r.app === app);
      if (!first) {
        this.chartTitle.textContent = '';
        this.clear(live ? 'No live stream: enter the app and stream to show' : 'Enter the app and stream to show');
        return;
      }
      app = first.app;
      stream = first.stream;
    }
    if (!app) {
      this.chartTitle.textContent = '';
      this.clear('Enter the app of the stream to show');
      return;
    }
    const w = this.window();
    const q = { domain, app, stream, start_time: w.start, end_time: w.end };
    const [fps, kbps] = await Promise.all([
      this.get('stats/stream/framerate', q, signal).then((j) => parseRuns(j, 'framerate_info_list')),
      this.get('stats/stream/bitrate', q, signal).then((j) => parseRuns(j, 'bitrate_info_list')),
    ]);
    this.chartTitle.textContent = `${domain}/${app}/${stream}`;
    this.chart.setOption({ ...zoneOption(2), ...series({ fps, kbps }) }, { replaceMerge: ['series'] });
    this.empty.hidden = fps.length + kbps.length > 0;
    this.empty.textContent = 'No probe data for this stream in the window';
    countLoad('streams-chart');
  }

  private async loadHistory(signal: AbortSignal): Promise<void> {
    const domain = parseDomains(this.domain.value)[0];
    if (!domain) return;
    const w = this.window();
    const page = this.pageNo;
    const body = this.historyTable.tBodies[0];
    let h;
    try {
      h = parseHistory(await this.get('stats/history/streams', {
        domain, app: this.app.value.trim(), stream: this.stream.value.trim(), offset: String(page), limit: String(HISTORY_LIMIT),
        start_time: w.start, end_time: w.end,
      }, signal));
    } catch (err) {
      if ((err as Error).name !== 'AbortError') {
        body?.replaceChildren();
        this.pageText.textContent = '';
        this.prev.disabled = true;
        this.next.disabled = true;
      }
      throw err;
    }
    body?.replaceChildren(...h.rows.map((r) => row([
      r.app, r.stream, r.relay ? 'relay' : 'publish', r.clientIp, codecs(r.videoCodec, r.audioCodec), formatDateTime(r.start), formatDateTime(r.end),
      formatSpan((r.end - r.start) / 1000),
    ], new Set([7]))));
    this.pageText.textContent = pageLabel(page, h.total, HISTORY_LIMIT);
    this.prev.disabled = page === 0;
    this.next.disabled = !hasNext(page, h.total, HISTORY_LIMIT);
    countLoad('streams-history');
  }
}

/** Two panels (frame rate over bitrate) sharing one time axis zoom; the static part. */
function base(): Option {
  const grid: GridComponentOption[] = [{ left: 64, right: 16, top: 24, height: '34%' }, { left: 64, right: 16, top: '52%', height: '34%' }];
  return {
    animation: false,
    tooltip: { trigger: 'axis', confine: true, formatter: timeTooltip((name, v) => (PANELS.find((p) => p.name === name) ?? PANELS[0]).format(v), () => undefined) },
    axisPointer: { link: [{ xAxisIndex: 'all' }] },
    grid,
    xAxis: PANELS.map((_, i) => ({
      type: 'time', gridIndex: i, axisLabel: { show: i === PANELS.length - 1, hideOverlap: true },
      nameLocation: 'middle', nameGap: 24, nameTextStyle: { color: '#6b7785' },
    })),
    yAxis: PANELS.map((p, i) => ({ type: 'value', gridIndex: i, name: p.name, nameGap: 6, nameTextStyle: { align: 'left' }, splitNumber: 2, min: 0 })),
    dataZoom: [{ type: 'inside', xAxisIndex: [0, 1] }, { type: 'slider', xAxisIndex: [0, 1], height: 20, bottom: 4 }],
  };
}

/** One line per panel, broken (a null point) between runs, with the breaks shaded. */
function series(runs: { fps: Run[]; kbps: Run[] }): Option {
  return {
    series: PANELS.map((p, i): LineSeriesOption => ({
      id: p.key, name: p.name, type: 'line', xAxisIndex: i, yAxisIndex: i, symbol: 'none', color: p.colour, lineStyle: { width: 1 },
      connectNulls: false,
      data: runPoints(runs[p.key]),
      markArea: { silent: true, itemStyle: { color: BREAK_FILL }, data: breaks(runs[p.key]).map(([from, to]) => [{ xAxis: from }, { xAxis: to }]) },
    })),
  };
}
