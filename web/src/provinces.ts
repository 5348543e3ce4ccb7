import { apiGet } from './api.js';
import { clearChart, createChart, provincesOption, type Chart } from './charts.js';
import { byId } from './dom.js';
import { mapLimit } from './limit.js';
import { Poller } from './poller.js';
import { httpCodesParams, type PlaybackQuery } from './query.js';
import { REGIONS } from './regions.js';
import { parseHttpCodes, provinceRow, topProvinces, type ProvinceRow } from './shape.js';
import { countLoad, hooks, type Shell } from './shell.js';

/** Requests in flight at once while asking province by province. */
export const PROVINCE_CONCURRENCY = 6;
const SHOWN = 15;

/**
 * Province breakdown built on the public API alone: one httpcodes query per province code
 * (six at a time), summed over the window. It costs 35 queries, so it refreshes six times
 * less often than the main chart.
 */
export class ProvinceBreakdown {
  private readonly chart: Chart;
  private readonly empty = byId('pv-empty', HTMLElement);
  private readonly note = byId('pv-note', HTMLElement);
  private readonly poller: Poller;
  private rows: ProvinceRow[] = [];

  constructor(
    private readonly shell: Shell,
    private readonly query: () => PlaybackQuery | string,
    onPick: (region: string) => void,
  ) {
    this.chart = createChart(byId('pv-chart', HTMLElement));
    hooks().charts.provinces = this.chart;
    this.poller = new Poller((signal) => this.load(signal), shell.refreshMs * 6);
    this.chart.on('click', (p) => {
      const row = this.rows[this.rows.length - 1 - (p.dataIndex ?? -1)];
      if (row) onPick(row.region);
    });
  }

  /** The previous answer goes (a refused query or a failed load must not leave it drawn). */
  private clear(): void {
    this.rows = [];
    clearChart(this.chart);
    this.empty.hidden = true;
    this.note.textContent = '';
  }

  reload(): void {
    this.chart.showLoading();
    void this.poller.now();
  }

  stop(): void {
    this.poller.stop();
  }

  private async load(signal: AbortSignal): Promise<boolean> {
    const q = this.query();
    if (typeof q === 'string') {
      this.clear();
      this.chart.hideLoading();
      return false;
    }
    try {
      const session = this.shell.session();
      const all = await mapLimit(REGIONS, PROVINCE_CONCURRENCY, async (region) => {
        const json = await apiGet(session, 'stats/httpcodes', httpCodesParams(q, region), signal);
        return provinceRow(region, parseHttpCodes(json));
      });
      const withTraffic = all.filter((r) => r.total > 0).length;
      this.rows = topProvinces(all, SHOWN);
      this.chart.setOption(provincesOption(this.rows), { replaceMerge: ['series', 'yAxis'] });
      this.empty.hidden = this.rows.length > 0;
      this.note.textContent = withTraffic > SHOWN ? `top ${SHOWN} of ${withTraffic}; click a bar to filter` : 'click a bar to filter';
      countLoad('provinces');
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      this.clear();
      this.shell.fail(err);
    } finally {
      this.chart.hideLoading();
    }
    return q.window.live;
  }
}
