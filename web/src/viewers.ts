import './viewers.css';
import type { LineSeriesOption } from 'echarts/charts';
import { ApiFailure, apiGet, type Endpoint } from './api.js';
import { createChart, type Chart, type Option } from './charts.js';
import { clock, el, input, integer, label, mountView } from './dom.js';
import { mapLimit } from './limit.js';
import { Poller } from './poller.js';
import { ISP_NAMES, ISPS, REGION_NAMES, REGIONS } from './regions.js';
import { parseDomains } from './session.js';
import { countLoad, hooks, type Shell } from './shell.js';
import { DAY, HOUR, formatApiTime } from './timewin.js';
import { formatBps, formatBytes, type TimeValue } from './traffic-shape.js';
import {
  MINUTE_MS, formatDuration, nextSort, parsePlayInfo, parsePortrait, parseUsers, provisionalFrom, sortStreams, splitProvisional,
  topSeries, utcDay, type LiveStream, type Portrait, type SortKey, type SortState,
} from './viewers-shape.js';

const WINDOWS: Record<string, number> = { '1h': HOUR, '6h': 6 * HOUR, '24h': DAY, '7d': 7 * DAY };
const MAX_DOMAINS = 10;
/** Series drawn at most (streams and provinces can be many). */
const MAX_SERIES = 10;
const CONCURRENCY = 4;
const PROVISIONAL_FILL = 'rgba(255, 193, 7, 0.15)';
const PALETTE = ['#1565c0', '#2e7d32', '#ef6c00', '#6a1b9a', '#00838f', '#c62828', '#5d4037', '#ad1457', '#827717', '#37474f'];
const SPLITS = { domain: 'Domain', stream: 'Stream', protocol: 'Protocol', region: 'Province', isp: 'Carrier' } as const;
type Split = keyof typeof SPLITS;
const COLUMNS: Array<{ key: SortKey; label: string; numeric: boolean }> = [
  { key: 'domain', label: 'Play domain', numeric: false },
  { key: 'stream', label: 'Stream', numeric: false },
  { key: 'protocol', label: 'Protocol', numeric: false },
  { key: 'bandwidth', label: 'Bandwidth', numeric: true },
  { key: 'online', label: 'Online viewers', numeric: true },
];

function select(id: string, options: Array<[string, string]>): HTMLSelectElement {
  const s = el('select');
  s.id = id;
  for (const [value, label] of options) s.append(new Option(label, value));
  return s;
}
function card(title: string, ...children: HTMLElement[]): HTMLElement {
  const c = el('div', undefined, 'card');
  c.append(el('h2', title), ...children);
  return c;
}

/**
 * Viewers view: online viewers over time (1 min or 5 min slots) split by domain, stream, protocol,
 * province or carrier, with the minutes that may still grow drawn as provisional; the newest
 * complete minute's live streams in a sortable table; a stream's portrait for a past UTC day.
 * Everything comes from the three public audience endpoints. The view builds its own section.
 */
export class ViewersView {
  readonly section = el('section');
  private readonly domains = input('vw-domains', 'default: the domains with live streams');
  private readonly stream = input('vw-stream', 'all streams');
  private readonly windowSel = select('vw-window', [['1h', 'Last 1 hour'], ['6h', 'Last 6 hours'], ['24h', 'Last 24 hours'], ['7d', 'Last 7 days']]);
  private readonly interval = select('vw-interval', [['60', '1 minute'], ['300', '5 minutes (peak)']]);
  private readonly split = select('vw-split', Object.entries(SPLITS));
  private readonly protocol = select('vw-protocol', [['', 'All protocols'], ['flv', 'HTTP-FLV'], ['hls', 'HLS'], ['rtmp', 'RTMP']]);
  private readonly status = el('p', '', 'status');
  private readonly empty = el('div', 'No viewers in this window', 'empty');
  private readonly chartBox = el('div', undefined, 'chart tall');
  private readonly table = el('table', undefined, 'codes');
  private readonly streamsTime = el('span', '', 'hint');
  private readonly portraitStream = input('vw-portrait-stream', 'whole domain');
  private readonly portraitDomain = input('vw-portrait-domain', 'play.example.com');
  private readonly portraitDay = el('input');
  private readonly portraitOut = el('dl', undefined, 'portrait');
  private readonly chart: Chart;
  private readonly poller: Poller;
  private streams: LiveStream[] = [];
  private sort: SortState = { key: 'online', descending: true };

  constructor(private readonly shell: Shell) {
    this.section.id = 'view-viewers';
    this.section.hidden = true;
    const form = el('form', undefined, 'filters');
    form.id = 'vw-filters';
    form.autocomplete = 'off';
    const apply = el('button', 'Apply');
    apply.type = 'submit';
    form.append(
      label(`Play domains (up to ${MAX_DOMAINS}, comma separated)`, this.domains, 'wide'), label('Stream', this.stream),
      label('Window', this.windowSel), label('Slot', this.interval), label('By', this.split), label('Protocol', this.protocol), apply,
    );
    const wrap = el('div', undefined, 'chart-wrap');
    wrap.append(this.chartBox, this.empty);
    this.empty.hidden = true;
    this.table.id = 'vw-streams';
    const head = el('tr');
    for (const c of COLUMNS) {
      const th = el('th', undefined, c.numeric ? 'num' : undefined);
      const b = el('button', c.label, 'sort');
      b.type = 'button';
      b.dataset.sort = c.key;
      b.addEventListener('click', () => {
        this.sort = nextSort(this.sort, c.key);
        this.renderStreams();
      });
      th.append(b);
      head.append(th);
    }
    this.table.append(el('thead'), el('tbody'));
    this.table.tHead?.append(head);
    const streamsTitle = el('h2', 'Live streams ');
    streamsTitle.append(this.streamsTime);
    const streamsCard = el('div', undefined, 'card');
    streamsCard.append(streamsTitle, this.table);

    const pForm = el('form', undefined, 'filters');
    pForm.id = 'vw-portrait-form';
    this.portraitDay.id = 'vw-portrait-day';
    this.portraitDay.type = 'date';
    const pButton = el('button', 'Show');
    pButton.type = 'submit';
    pForm.append(label('Play domain', this.portraitDomain), label('Stream', this.portraitStream), label('UTC day', this.portraitDay), pButton);
    this.portraitOut.id = 'vw-portrait';

    const legend = el('p', 'Shaded, dashed: minutes that may still grow (an HTTP-FLV viewer is counted when the session ends).', 'hint');
    this.section.append(
      form, this.status, card('Online viewers', legend, wrap), streamsCard, card('Stream portrait (one past UTC day)', pForm, this.portraitOut),
    );

    this.chart = createChart(this.chartBox);
    hooks().charts.viewers = this.chart;
    this.poller = new Poller((signal) => this.load(signal), shell.refreshMs * 3);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.reload();
    });
    for (const i of [this.domains, this.stream, this.windowSel, this.interval, this.split, this.protocol]) i.addEventListener('change', () => this.reload());
    pForm.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.loadPortrait();
    });
  }

  /** Adds the view's tab and section to the page (the shell's #tabs and <main>). */
  mount(tabs: HTMLElement, main: HTMLElement): void {
    mountView(tabs, main, 'viewers', 'Viewers', this.section);
  }

  show(): void {
    if (!this.portraitDay.value) {
      const y = utcDay(Date.now(), 1);
      this.portraitDay.value = `${y.slice(0, 4)}-${y.slice(4, 6)}-${y.slice(6)}`;
    }
    this.reload();
  }

  hide(): void {
    this.poller.stop();
  }

  reload(): void {
    this.chart.showLoading();
    void this.poller.now();
  }

  private get(endpoint: Endpoint, params: Record<string, string>, signal?: AbortSignal): Promise<unknown> {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== '') p.set(k, v);
    return apiGet(this.shell.session(), endpoint, p, signal);
  }

  private async load(signal: AbortSignal): Promise<boolean> {
    const now = Date.now();
    let domains = parseDomains(this.domains.value);
    if (domains.length > MAX_DOMAINS) {
      this.status.textContent = `At most ${MAX_DOMAINS} play domains can be queried at once (${domains.length} given).`;
      this.chart.hideLoading();
      return false;
    }
    try {
      // The newest complete minute's live streams (also the default domains and the streams to split by).
      const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
      const live = parsePlayInfo(await this.get('stats/stream/play-info', {
        ...(domains.length > 0 ? { play_domains: domains.join(',') } : {}), time: formatApiTime(minute),
      }, signal));
      this.streams = live.streams;
      this.streamsTime.textContent = `minute ${clock(live.time)} · ${live.streams.length} streams`;
      this.renderStreams();
      if (domains.length === 0) domains = [...new Set(live.streams.map((s) => s.domain))].slice(0, MAX_DOMAINS);
      if (!this.portraitDomain.value && domains[0]) this.portraitDomain.value = domains[0];

      const slotMs = Number(this.interval.value) * 1000;
      const end = Math.ceil(now / 1000) * 1000;
      const base = {
        interval: this.interval.value, start_time: formatApiTime(end - (WINDOWS[this.windowSel.value] ?? HOUR)), end_time: formatApiTime(end),
        protocol: this.protocol.value, stream: this.stream.value.trim(),
      };
      const users = async (domain: string, over: Record<string, string>): Promise<TimeValue[]> =>
        parseUsers(await this.get('stats/user', { ...base, play_domain: domain, ...over }, signal));
      const split = this.split.value as Split;
      const groups = this.groups(split, domains);
      const series = await mapLimit(groups, CONCURRENCY, async (g) => {
        const each = await Promise.all(domains.filter((d) => g.domain === undefined || g.domain === d).map((d) => users(d, g.over)));
        return { name: g.name, points: sumPoints(each) };
      });
      this.draw(topSeries(series, MAX_SERIES), provisionalFrom(now, slotMs, this.protocol.value));
      this.status.textContent = domains.length === 0
        ? 'No live streams in the newest minute: enter the play domains to show.'
        : `Updated ${clock(Date.now())} · ${domains.length} domains · refreshes every ${Math.round((this.shell.refreshMs * 3) / 1000)} s`;
      this.shell.ok();
      countLoad('viewers');
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      this.shell.fail(err instanceof ApiFailure && err.code === 'APIGW.0101'
        ? new Error('This livestats server does not serve the audience endpoints.') : err);
      this.status.textContent = `Last attempt failed at ${clock(Date.now())}`;
    } finally {
      this.chart.hideLoading();
    }
    if (!this.portraitOut.hasChildNodes() && this.portraitDomain.value) void this.loadPortrait();
    return true;
  }

  /** The series to ask for: each a name, the domain it is limited to (undefined: all) and extra parameters. */
  private groups(split: Split, domains: string[]): Array<{ name: string; domain?: string; over: Record<string, string> }> {
    switch (split) {
      case 'domain': return domains.map((d) => ({ name: d, domain: d, over: {} }));
      case 'stream': {
        const byOnline = [...this.streams].filter((s) => domains.includes(s.domain)).sort((a, b) => b.online - a.online);
        const seen = new Map<string, { name: string; domain: string; over: Record<string, string> }>();
        for (const s of byOnline) {
          const key = `${s.domain}/${s.stream}`;
          if (!seen.has(key) && seen.size < MAX_SERIES) seen.set(key, { name: domains.length > 1 ? key : s.stream, domain: s.domain, over: { stream: s.stream } });
        }
        return [...seen.values()];
      }
      case 'protocol': return ['flv', 'hls', 'rtmp'].map((p) => ({ name: p === 'flv' ? 'HTTP-FLV' : p.toUpperCase(), over: { protocol: p } }));
      case 'region': return REGIONS.map((r) => ({ name: `${REGION_NAMES[r]} (${r})`, over: { region: r } }));
      case 'isp': return ISPS.map((i) => ({ name: ISP_NAMES[i], over: { isp: i } }));
    }
  }

  private draw(all: Array<{ name: string; points: TimeValue[] }>, from: number): void {
    const series: LineSeriesOption[] = [];
    let last = 0;
    all.forEach((s, i) => {
      const part = splitProvisional(s.name, s.points, from);
      const colour = PALETTE[i % PALETTE.length];
      last = Math.max(last, ...s.points.map((p) => p.time));
      series.push({ id: `s${i}`, name: s.name, type: 'line', symbol: 'none', color: colour, lineStyle: { width: 1.5 }, data: part.settled });
      series.push({
        id: `s${i}-provisional`, name: s.name, type: 'line', symbol: 'none', color: colour, lineStyle: { width: 1.5, type: 'dashed' }, data: part.provisional,
        ...(i === 0 && part.provisional.length > 0
          ? { markArea: { silent: true, itemStyle: { color: PROVISIONAL_FILL }, data: [[{ xAxis: from }, { xAxis: last }]] } }
          : {}),
      });
    });
    const option: Option = {
      animation: false,
      tooltip: { trigger: 'axis' },
      legend: { type: 'scroll', top: 0 },
      grid: { left: 56, right: 24, top: 40, bottom: 64 },
      xAxis: { type: 'time', axisLabel: { hideOverlap: true } },
      yAxis: { type: 'value', name: 'online viewers', minInterval: 1 },
      dataZoom: [{ type: 'inside' }, { type: 'slider', height: 20, bottom: 8 }],
      series,
    };
    this.chart.setOption(option, { notMerge: true });
    this.empty.hidden = all.length > 0;
  }

  private renderStreams(): void {
    const body = this.table.tBodies[0];
    const rows = sortStreams(this.streams, this.sort);
    body?.replaceChildren(...rows.map((s) => {
      const tr = el('tr');
      tr.append(el('td', s.domain), el('td', s.stream), el('td', s.protocol), el('td', formatBps(s.bandwidth), 'num'), el('td', integer(s.online), 'num'));
      return tr;
    }));
    for (const b of this.table.querySelectorAll<HTMLButtonElement>('button.sort')) {
      b.dataset.order = b.dataset.sort === this.sort.key ? (this.sort.descending ? 'desc' : 'asc') : '';
    }
    countLoad('viewers-streams');
  }

  private async loadPortrait(): Promise<void> {
    const domain = parseDomains(this.portraitDomain.value)[0];
    if (!domain) return;
    try {
      const p = parsePortrait(await this.get('stats/stream-portraits', {
        play_domain: domain, stream: this.portraitStream.value.trim(), time: this.portraitDay.value.replace(/-/g, ''),
      }));
      this.renderPortrait(p);
      this.shell.ok();
    } catch (err) {
      this.shell.fail(err);
    }
  }

  private renderPortrait(p: Portrait): void {
    const items: Array<[string, string]> = [
      ['Day (UTC)', `${p.day.slice(0, 4)}-${p.day.slice(4, 6)}-${p.day.slice(6)}`],
      ['Viewers (distinct IPs)', integer(p.users)], ['Peak online viewers', integer(p.peakUsers)],
      ['Time watched', formatDuration(p.playDuration)], ['Traffic', formatBytes(p.flow)], ['Peak bandwidth (5 min)', formatBps(p.peakBandwidth)],
      ['Requests', integer(p.requests)], ['Published for', formatDuration(p.pushDuration)],
    ];
    this.portraitOut.replaceChildren(...items.flatMap(([k, v]) => {
      const dd = el('dd', v);
      dd.dataset.key = k;
      return [el('dt', k), dd];
    }));
    countLoad('viewers-portrait');
  }
}

/** Point-wise sums of series over the same slots. */
function sumPoints(all: TimeValue[][]): TimeValue[] {
  const first = all[0];
  if (!first) return [];
  return first.map((p, i) => ({ time: p.time, value: all.reduce((s, pts) => s + (pts[i]?.value ?? 0), 0) }));
}


