import { apiGet } from './api.js';
import { clearChart, createChart, playbackBase, playbackSeries, zoneOption, type Chart } from './charts.js';
import { codeColour } from './colours.js';
import { byId, clock, el, integer, share, syncCustomWindow } from './dom.js';
import { healthOf, type Health } from './health.js';
import { domainPicker, fillDomainPicker, neverStoredNote, type Picker } from './pickers.js';
import { Poller } from './poller.js';
import { ProvinceBreakdown } from './provinces.js';
import { httpCodesParams, type PlaybackQuery } from './query.js';
import { ISP_NAMES, ISPS, REGION_NAMES, REGIONS } from './regions.js';
import { parseDomains } from './session.js';
import { parseHttpCodes, shapePlayback, type PlaybackShape } from './shape.js';
import { countLoad, hooks, type Shell } from './shell.js';
import { DAY, HOUR, resolveWindow } from './timewin.js';
import { instantCodec, parseZonedInput, registerZonedInput } from './tz.js';
import { UrlState } from './urlstate.js';

export const MAX_DOMAINS = 10;
export const DEMO_DOMAINS = ['play.example.com', 'hls.example.com', 'flv.example.com'];
const PRESETS: Record<string, number> = { '1h': HOUR, '6h': 6 * HOUR, '24h': DAY };
const HEALTH_TEXT: Record<Health['level'], string> = {
  healthy: 'healthy', degraded: 'degraded', failing: 'failing', unknown: 'too few requests to judge',
};

/** Playback view: requests per minute by status code, error shares, health, code table, provinces. */
export class PlaybackView {
  private readonly form = byId('pb-filters', HTMLFormElement);
  private readonly domains = byId('pb-domains', HTMLInputElement);
  private readonly windowSel = byId('pb-window', HTMLSelectElement);
  private readonly from = byId('pb-from', HTMLInputElement);
  private readonly to = byId('pb-to', HTMLInputElement);
  private readonly region = byId('pb-region', HTMLSelectElement);
  private readonly isp = byId('pb-isp', HTMLSelectElement);
  private readonly status = byId('pb-status', HTMLElement);
  private readonly empty = byId('pb-empty', HTMLElement);
  private readonly health = byId('pb-health', HTMLElement);
  private readonly chart: Chart;
  private readonly poller: Poller;
  private readonly provinces: ProvinceBreakdown;
  private readonly picker: Picker;
  private readonly state: UrlState;
  private known: string[] | undefined;
  /** Start of the minute in progress in the drawn answer (for the tooltip). */
  private partialFrom: number | undefined;

  constructor(private readonly shell: Shell) {
    for (const r of REGIONS) this.region.append(new Option(`${REGION_NAMES[r]} (${r})`, r));
    for (const i of ISPS) this.isp.append(new Option(`${ISP_NAMES[i]} (${i})`, i));
    if (shell.demo) this.domains.value = DEMO_DOMAINS.join(', ');
    registerZonedInput(this.from);
    const custom = (): boolean => this.windowSel.value === 'custom';
    registerZonedInput(this.to);
    this.state = new UrlState('pb', {
      domains: this.domains, window: this.windowSel, from: this.from, to: this.to, region: this.region, isp: this.isp,
    }, { from: instantCodec, to: instantCodec }, { from: custom, to: custom });
    this.state.restore();
    this.chart = createChart(byId('pb-chart', HTMLElement));
    this.chart.setOption(playbackBase(() => this.partialFrom));
    hooks().charts.playback = this.chart;
    this.picker = domainPicker(byId('pb-pick', HTMLSelectElement), this.domains);
    this.poller = new Poller((signal) => this.load(signal), shell.refreshMs);
    this.provinces = new ProvinceBreakdown(shell, () => this.query(), (region) => {
      this.region.value = region;
      this.reload();
    });
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.reload();
    });
    for (const input of [this.windowSel, this.region, this.isp, this.from, this.to, this.domains]) {
      input.addEventListener('change', () => this.reload());
    }
  }

  show(): void {
    this.reload();
    void this.loadNames();
  }

  hide(): void {
    this.poller.stop();
    this.provinces.stop();
  }

  /** Filters changed (or the view appeared): load now with a loading state, provinces too. */
  reload(): void {
    const custom = this.windowSel.value === 'custom';
    syncCustomWindow(this.form, custom, this.from, this.to);
    this.state.save();
    this.chart.showLoading();
    void this.poller.now();
    this.provinces.reload();
  }

  private loadNames(): Promise<void> {
    return fillDomainPicker(this.picker, this.shell.session(), (d) => (this.known = d));
  }

  private query(): PlaybackQuery | string {
    const domains = parseDomains(this.domains.value);
    if (domains.length === 0) return 'Enter at least one play domain.';
    if (domains.length > MAX_DOMAINS) return `At most ${MAX_DOMAINS} play domains can be queried at once (${domains.length} given).`;
    const w = resolveWindow(
      { preset: this.windowSel.value, duration: PRESETS[this.windowSel.value], start: parseZonedInput(this.from.value), end: parseZonedInput(this.to.value) },
      Date.now(), DAY,
    );
    if (typeof w === 'string') return w;
    return { domains, window: w, region: this.region.value, isp: this.isp.value };
  }

  /** Nothing to draw (a refused query or a failed load): the previous answer goes, `why` is shown. */
  private clear(why: string): void {
    clearChart(this.chart);
    this.chart.hideLoading();
    this.partialFrom = undefined;
    this.empty.textContent = why;
    this.empty.hidden = false;
    this.health.replaceChildren();
    byId('pb-table', HTMLTableElement).tBodies[0]?.replaceChildren();
    byId('pb-table-empty', HTMLElement).hidden = true;
  }

  private async load(signal: AbortSignal): Promise<boolean> {
    const q = this.query();
    if (typeof q === 'string') {
      this.clear(q);
      this.status.textContent = q;
      return false;
    }
    try {
      const json = await apiGet(this.shell.session(), 'stats/httpcodes', httpCodesParams(q), signal);
      const shape = shapePlayback(parseHttpCodes(json), Date.now());
      // An empty answer names the domains never stored: the list is fetched again if it is missing.
      if (shape.total === 0 && this.known === undefined) await this.loadNames();
      this.render(shape, q);
      this.shell.ok();
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      this.clear('No chart: the last load failed (see the message above)');
      this.shell.fail(err);
      this.status.textContent = `Last attempt failed at ${clock(Date.now())}`;
    }
    return q.window.live;
  }

  private render(shape: PlaybackShape, q: PlaybackQuery): void {
    this.partialFrom = shape.partial?.time;
    // replaceMerge swaps the series only: the zoom the user chose stays as it is.
    this.chart.setOption({ ...zoneOption(), ...playbackSeries(shape) }, { replaceMerge: ['series'] });
    this.chart.hideLoading();
    this.empty.textContent = 'No data for this window';
    this.empty.hidden = shape.total > 0;
    this.renderTable(shape);
    this.renderHealth(shape);
    const errors = shape.total > 0 ? `, ${share(shape.errors / shape.total)} errors, ${share(shape.serverErrors / shape.total)} 5xx` : '';
    const refresh = q.window.live ? ` · refreshes every ${Math.round(this.shell.refreshMs / 1000)} s` : '';
    // Only an empty answer is worth a guess: a domain the project never stored is likely a typo.
    const warn = shape.total === 0 ? neverStoredNote(q.domains, this.known) : '';
    this.status.textContent = `Updated ${clock(Date.now())} · ${integer(shape.total)} requests${errors}${refresh}${warn}`;
    countLoad('playback');
  }

  private renderHealth(shape: PlaybackShape): void {
    const h = healthOf(shape.minutes);
    const level = el('dd', HEALTH_TEXT[h.level], `health-${h.level}`);
    level.id = 'pb-health-level';
    const items: Array<[string, HTMLElement | string]> = [
      [`health, last ${h.minutes} complete min`, level],
      ['5xx share', share(h.serverShare)],
      ['4xx share', share(h.clientShare)],
      ['requests', integer(h.requests)],
    ];
    this.health.replaceChildren(...items.map(([k, v]) => {
      const d = el('div');
      d.append(el('dt', k), typeof v === 'string' ? el('dd', v) : v);
      return d;
    }));
  }

  private renderTable(shape: PlaybackShape): void {
    const body = byId('pb-table', HTMLTableElement).tBodies[0];
    if (!body) return;
    body.replaceChildren(...shape.table.map((row) => {
      const tr = el('tr');
      const code = el('td');
      const swatch = el('span', undefined, 'swatch');
      swatch.style.background = codeColour(row.code);
      code.append(swatch, String(row.code));
      tr.append(code, el('td', row.cls), el('td', integer(row.total), 'num'), el('td', share(row.share), 'num'));
      return tr;
    }));
    byId('pb-table-empty', HTMLElement).hidden = shape.total > 0;
  }
}
