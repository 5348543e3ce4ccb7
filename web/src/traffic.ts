import { ApiFailure, apiGet, type Endpoint } from './api.js';
import { clearChart, createChart, zoneOption, type Chart } from './charts.js';
import { byId, clock, el, syncCustomWindow } from './dom.js';
import { mapLimit } from './limit.js';
import { Poller } from './poller.js';
import { ISP_NAMES, ISPS, REGION_NAMES, REGIONS } from './regions.js';
import { parseDomains } from './session.js';
import { countLoad, hooks, type Shell } from './shell.js';
import { DAY, resolveWindow } from './timewin.js';
import { instantCodec, parseZonedInput, registerZonedInput } from './tz.js';
import { UrlState } from './urlstate.js';
import { domainPicker, fillDomainPicker, neverStoredNote, type Picker } from './pickers.js';
import { bandwidthBase, bandwidthSeries, splitOption } from './traffic-charts.js';
import { trafficParams, type TrafficQuery } from './traffic-query.js';
import {
  domainRows, formatBps, formatBytes, parseDetail, parsePerDomain, protocolSplit, sumValues, type DomainRow,
} from './traffic-shape.js';

export const MAX_TRAFFIC_DOMAINS = 100;
const PRESETS: Record<string, number> = { '24h': DAY, '7d': 7 * DAY, '31d': 31 * DAY };
const MAX_SPAN = 31 * DAY;
const MAX_LOOKBACK = 365 * DAY;
/** Split requests in flight at once (the view asks 10 questions per load). */
const CONCURRENCY = 4;

/**
 * Traffic view: bandwidth over time (5 min / 1 h / 1 d), peak and total per domain, and the
 * bytes split by protocol and by carrier, all from the four public traffic/bandwidth endpoints.
 */
export class TrafficView {
  private readonly form = byId('tr-filters', HTMLFormElement);
  private readonly domains = byId('tr-domains', HTMLInputElement);
  private readonly windowSel = byId('tr-window', HTMLSelectElement);
  private readonly from = byId('tr-from', HTMLInputElement);
  private readonly to = byId('tr-to', HTMLInputElement);
  private readonly interval = byId('tr-interval', HTMLSelectElement);
  private readonly region = byId('tr-region', HTMLSelectElement);
  private readonly isp = byId('tr-isp', HTMLSelectElement);
  private readonly protocol = byId('tr-protocol', HTMLSelectElement);
  private readonly status = byId('tr-status', HTMLElement);
  private readonly empty = byId('tr-empty', HTMLElement);
  private readonly chart: Chart;
  private readonly protocols: Chart;
  private readonly carriers: Chart;
  private readonly poller: Poller;
  private readonly picker: Picker;
  private readonly state: UrlState;
  private known: string[] | undefined;
  /** Start of the first slot in progress in the drawn answer (for the tooltip). */
  private partialFrom: number | undefined;

  constructor(private readonly shell: Shell) {
    for (const r of REGIONS) this.region.append(new Option(`${REGION_NAMES[r]} (${r})`, r));
    for (const i of ISPS) this.isp.append(new Option(`${ISP_NAMES[i]} (${i})`, i));
    registerZonedInput(this.from);
    const custom = (): boolean => this.windowSel.value === 'custom';
    registerZonedInput(this.to);
    this.state = new UrlState('tr', {
      domains: this.domains, window: this.windowSel, from: this.from, to: this.to, interval: this.interval,
      region: this.region, isp: this.isp, protocol: this.protocol,
    }, { from: instantCodec, to: instantCodec }, { from: custom, to: custom });
    this.state.restore();
    this.picker = domainPicker(byId('tr-pick', HTMLSelectElement), this.domains);
    this.chart = createChart(byId('tr-chart', HTMLElement));
    this.chart.setOption(bandwidthBase(() => this.partialFrom));
    this.protocols = createChart(byId('tr-protocols', HTMLElement));
    this.carriers = createChart(byId('tr-carriers', HTMLElement));
    Object.assign(hooks().charts, { traffic: this.chart, 'traffic-protocols': this.protocols, 'traffic-carriers': this.carriers });
    // Traffic is counted in 5-minute slots: a refresh every 3 x the usual period is plenty.
    this.poller = new Poller((signal) => this.load(signal), shell.refreshMs * 3);
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.reload();
    });
    for (const input of [this.windowSel, this.interval, this.region, this.isp, this.protocol, this.from, this.to, this.domains]) {
      input.addEventListener('change', () => this.reload());
    }
  }

  show(): void {
    this.reload();
    void this.loadNames();
  }

  private loadNames(): Promise<void> {
    return fillDomainPicker(this.picker, this.shell.session(), (d) => (this.known = d));
  }

  /** Nothing to draw (a refused query or a failed load): the previous answer goes, `why` is shown. */
  private clear(why: string): void {
    for (const c of [this.chart, this.protocols, this.carriers]) clearChart(c);
    this.partialFrom = undefined;
    this.empty.textContent = why;
    this.empty.hidden = false;
    byId('tr-table', HTMLTableElement).tBodies[0]?.replaceChildren();
    byId('tr-table-empty', HTMLElement).hidden = true;
  }

  hide(): void {
    this.poller.stop();
  }

  reload(): void {
    syncCustomWindow(this.form, this.windowSel.value === 'custom', this.from, this.to);
    this.state.save();
    for (const c of [this.chart, this.protocols, this.carriers]) c.showLoading();
    void this.poller.now();
  }

  private query(): TrafficQuery | string {
    const domains = parseDomains(this.domains.value);
    if (domains.length > MAX_TRAFFIC_DOMAINS) return `At most ${MAX_TRAFFIC_DOMAINS} play domains can be queried at once (${domains.length} given).`;
    const w = resolveWindow(
      { preset: this.windowSel.value, duration: PRESETS[this.windowSel.value], start: parseZonedInput(this.from.value), end: parseZonedInput(this.to.value) },
      Date.now(), MAX_SPAN, MAX_LOOKBACK,
    );
    if (typeof w === 'string') return w;
    return { domains, window: w, interval: Number(this.interval.value), region: this.region.value, isp: this.isp.value, protocol: this.protocol.value };
  }

  private async load(signal: AbortSignal): Promise<boolean> {
    const q = this.query();
    if (typeof q === 'string') {
      for (const c of [this.chart, this.protocols, this.carriers]) c.hideLoading();
      this.clear(q);
      this.status.textContent = q;
      return false;
    }
    const session = this.shell.session();
    const get = (endpoint: Endpoint, params: URLSearchParams): Promise<unknown> => apiGet(session, endpoint, params, signal);
    const summary = async (over: { isp?: string; protocol?: string }): Promise<number> =>
      sumValues(parsePerDomain(await get('stats/traffic/summary', trafficParams(q, over)), 'traffic_list'));
    try {
      const [points, peaks, totals] = await Promise.all([
        get('stats/bandwidth/detail', trafficParams(q, { interval: true })).then(parseDetail),
        get('stats/bandwidth/peak', trafficParams(q)).then((j) => parsePerDomain(j, 'bandwidth_list')),
        get('stats/traffic/summary', trafficParams(q)).then((j) => parsePerDomain(j, 'traffic_list')),
      ]);
      // The splits ignore the view's own protocol (resp. carrier) filter: '' sends none.
      const splits: Array<{ isp?: string; protocol?: string }> = [{ protocol: '' }, { protocol: 'flv' }, { protocol: 'hls' }, ...ISPS.map((isp) => ({ isp }))];
      const [all = 0, flv = 0, hls = 0, ...byIsp] = await mapLimit(splits, CONCURRENCY, summary);
      const now = Date.now();
      this.partialFrom = points.find((p) => p.time + q.interval * 1000 > now)?.time;
      this.chart.setOption({ ...zoneOption(), ...bandwidthSeries(points, q.interval, now) }, { replaceMerge: ['series'] });
      this.protocols.setOption(splitOption(protocolSplit(all, flv, hls)), { replaceMerge: ['series', 'yAxis'] });
      this.carriers.setOption(splitOption(ISPS.map((isp, i) => ({ name: ISP_NAMES[isp], bytes: byIsp[i] ?? 0 }))), { replaceMerge: ['series', 'yAxis'] });
      const rows = domainRows(peaks, totals);
      // An empty answer names the domains never stored: the list is fetched again if it is missing.
      if (q.domains.length > 0 && sumValues(totals) === 0 && this.known === undefined) await this.loadNames();
      this.render(rows, q);
      this.shell.ok();
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      this.clear('No chart: the last load failed (see the message above)');
      this.shell.fail(err instanceof ApiFailure && err.code === 'APIGW.0101'
        ? new Error('This livestats server does not serve the traffic endpoints.') : err);
      this.status.textContent = `Last attempt failed at ${clock(Date.now())}`;
    } finally {
      for (const c of [this.chart, this.protocols, this.carriers]) c.hideLoading();
    }
    return q.window.live;
  }

  private render(rows: DomainRow[], q: TrafficQuery): void {
    const live = q.window.live;
    const bytes = rows.reduce((s, r) => s + r.bytes, 0);
    this.empty.textContent = 'No data for this window';
    this.empty.hidden = bytes > 0;
    const body = byId('tr-table', HTMLTableElement).tBodies[0];
    body?.replaceChildren(...rows.map((r) => {
      const tr = el('tr');
      tr.append(el('td', r.domain), el('td', formatBps(r.peakBps), 'num'), el('td', formatBytes(r.bytes), 'num'));
      return tr;
    }));
    byId('tr-table-empty', HTMLElement).hidden = rows.length > 0;
    const refresh = live ? ` · refreshes every ${Math.round((this.shell.refreshMs * 3) / 1000)} s` : '';
    // Only an empty answer is worth a guess: a domain the project never stored is likely a typo.
    const warn = bytes === 0 ? neverStoredNote(q.domains, this.known) : '';
    const domains = `${rows.length} domain${rows.length === 1 ? '' : 's'}`;
    this.status.textContent = `Updated ${clock(Date.now())} · ${formatBytes(bytes)} in ${domains}${refresh}${warn}`;
    countLoad('traffic');
  }
}

