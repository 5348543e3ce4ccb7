import { apiGet } from './api.js';
import { createChart, playbackBase, playbackSeries, type Chart } from './charts.js';
import { codeColours } from './colours.js';
import { byId, clock, el, integer, share, syncCustomWindow } from './dom.js';
import { Poller } from './poller.js';
import { ProvinceBreakdown } from './provinces.js';
import { httpCodesParams, type PlaybackQuery } from './query.js';
import { ISP_NAMES, ISPS, REGION_NAMES, REGIONS } from './regions.js';
import { parseDomains } from './session.js';
import { parseHttpCodes, shapePlayback, type PlaybackShape } from './shape.js';
import { countLoad, hooks, type Shell } from './shell.js';
import { DAY, HOUR, parseLocalInput, resolveWindow } from './timewin.js';

export const MAX_DOMAINS = 10;
export const DEMO_DOMAINS = ['play.example.com', 'hls.example.com', 'flv.example.com'];
const PRESETS: Record<string, number> = { '1h': HOUR, '6h': 6 * HOUR, '24h': DAY };

/** Playback view: requests per minute by status code, error share, code table, provinces. */
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
  private readonly chart: Chart;
  private readonly poller: Poller;
  private readonly provinces: ProvinceBreakdown;

  constructor(private readonly shell: Shell) {
    for (const r of REGIONS) this.region.append(new Option(`${REGION_NAMES[r]} (${r})`, r));
    for (const i of ISPS) this.isp.append(new Option(`${ISP_NAMES[i]} (${i})`, i));
    if (shell.demo) this.domains.value = DEMO_DOMAINS.join(', ');
    this.chart = createChart(byId('pb-chart', HTMLElement));
    this.chart.setOption(playbackBase());
    hooks().charts.playback = this.chart;
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
  }

  hide(): void {
    this.poller.stop();
    this.provinces.stop();
  }

  /** Filters changed (or the view appeared): load now with a loading state, provinces too. */
  reload(): void {
    const custom = this.windowSel.value === 'custom';
    syncCustomWindow(this.form, custom, this.from, this.to);
    this.chart.showLoading();
    void this.poller.now();
    this.provinces.reload();
  }

  private query(): PlaybackQuery | string {
    const domains = parseDomains(this.domains.value);
    if (domains.length === 0) return 'Enter at least one play domain.';
    if (domains.length > MAX_DOMAINS) return `At most ${MAX_DOMAINS} play domains can be queried at once (${domains.length} given).`;
    const w = resolveWindow(
      { preset: this.windowSel.value, duration: PRESETS[this.windowSel.value], start: parseLocalInput(this.from.value), end: parseLocalInput(this.to.value) },
      Date.now(), DAY,
    );
    if (typeof w === 'string') return w;
    return { domains, window: w, region: this.region.value, isp: this.isp.value };
  }

  private async load(signal: AbortSignal): Promise<boolean> {
    const q = this.query();
    if (typeof q === 'string') {
      this.chart.hideLoading();
      this.status.textContent = q;
      return false;
    }
    try {
      const json = await apiGet(this.shell.session(), 'stats/httpcodes', httpCodesParams(q), signal);
      const shape = shapePlayback(parseHttpCodes(json));
      this.render(shape, q.window.live);
      this.shell.ok();
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      this.chart.hideLoading();
      this.shell.fail(err);
      this.status.textContent = `Last attempt failed at ${clock(Date.now())}`;
    }
    return q.window.live;
  }

  private render(shape: PlaybackShape, live: boolean): void {
    // replaceMerge swaps the series only: the zoom the user chose stays as it is.
    this.chart.setOption(playbackSeries(shape), { replaceMerge: ['series'] });
    this.chart.hideLoading();
    this.empty.hidden = shape.total > 0;
    this.renderTable(shape);
    const errors = shape.total > 0 ? `, ${share(shape.errors / shape.total)} errors` : '';
    const refresh = live ? ` · refreshes every ${Math.round(this.shell.refreshMs / 1000)} s` : '';
    this.status.textContent = `Updated ${clock(Date.now())} · ${integer(shape.total)} requests${errors}${refresh}`;
    countLoad('playback');
  }

  private renderTable(shape: PlaybackShape): void {
    const body = byId('pb-table', HTMLTableElement).tBodies[0];
    if (!body) return;
    const colours = codeColours(shape.codes);
    body.replaceChildren(...shape.table.map((row, i) => {
      const tr = el('tr');
      const code = el('td');
      const swatch = el('span', undefined, 'swatch');
      swatch.style.background = colours[i] ?? '#999';
      code.append(swatch, String(row.code));
      tr.append(code, el('td', row.cls), el('td', integer(row.total), 'num'), el('td', share(row.share), 'num'));
      return tr;
    }));
    byId('pb-table-empty', HTMLElement).hidden = shape.total > 0;
  }
}
