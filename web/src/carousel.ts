import { apiGet } from './api.js';
import { carouselBase, carouselSeries, clearChart, createChart, zoneOption, type Chart } from './charts.js';
import { byId, clock, el, integer, share, syncCustomWindow } from './dom.js';
import { Poller } from './poller.js';
import { recentTasks, rememberTask } from './session.js';
import { parseCarousel, shapeCarousel, type CarouselShape } from './shape.js';
import { countLoad, hooks, type Shell } from './shell.js';
import { HOUR, MINUTE, resolveWindow, windowParams } from './timewin.js';
import { formatDateTime, instantCodec, parseZonedInput, registerZonedInput } from './tz.js';
import { UrlState } from './urlstate.js';
import { loadNames, Picker, type KnownNames } from './pickers.js';

export const DEMO_TASK = 'demo-carousel';
const MAX_SPAN = 3 * HOUR;
const SETTLE_MS = 2000;
const PRESETS: Record<string, number> = { '15m': 15 * MINUTE, '1h': HOUR, '3h': 3 * HOUR };

/** Carousel view: a task's four per-second lines with outages shaded. */
export class CarouselView {
  private readonly form = byId('cr-filters', HTMLFormElement);
  private readonly task = byId('cr-task', HTMLInputElement);
  private readonly windowSel = byId('cr-window', HTMLSelectElement);
  private readonly from = byId('cr-from', HTMLInputElement);
  private readonly to = byId('cr-to', HTMLInputElement);
  private readonly status = byId('cr-status', HTMLElement);
  private readonly empty = byId('cr-empty', HTMLElement);
  private readonly summary = byId('cr-summary', HTMLElement);
  private readonly chart: Chart;
  private readonly poller: Poller;
  private readonly picker: Picker;
  private readonly state: UrlState;
  /** The project's tasks when known (undefined: not loaded, or the server has no list). */
  private names: KnownNames | undefined;

  constructor(private readonly shell: Shell) {
    const recent = recentTasks();
    this.task.value = shell.demo ? DEMO_TASK : recent[0] ?? '';
    this.fillRecent(recent);
    registerZonedInput(this.from);
    const custom = (): boolean => this.windowSel.value === 'custom';
    registerZonedInput(this.to);
    this.state = new UrlState('cr', { task: this.task, window: this.windowSel, from: this.from, to: this.to }, { from: instantCodec, to: instantCodec }, { from: custom, to: custom });
    this.state.restore();
    this.picker = new Picker(byId('cr-pick', HTMLSelectElement), 'Pick a known task…', (t) => {
      this.task.value = t;
      this.task.dispatchEvent(new Event('change'));
    });
    this.chart = createChart(byId('cr-chart', HTMLElement));
    this.chart.setOption(carouselBase());
    hooks().charts.carousel = this.chart;
    this.poller = new Poller((signal) => this.load(signal), shell.refreshMs);
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.reload();
    });
    for (const input of [this.task, this.windowSel, this.from, this.to]) input.addEventListener('change', () => this.reload());
  }

  show(): void {
    void this.loadNames().then(() => this.reload());
  }

  private async loadNames(): Promise<void> {
    try {
      this.names = await loadNames(this.shell.session());
    } catch {
      this.names = undefined; // the view's own load shows the failure
    }
    const tasks = this.names?.tasks ?? [];
    this.picker.fill(tasks.map((t) => ({
      value: t.id, label: `${t.id} (${t.lastSample === null ? 'no samples yet' : `last sample ${formatDateTime(t.lastSample)}`})`,
    })), this.names ? 'No carousel tasks yet' : 'No list on this server');
  }

  /** Nothing to draw (no task, a refused window or a failed load): the previous answer goes, `why` is shown. */
  private clear(why: string): void {
    clearChart(this.chart);
    this.chart.hideLoading();
    this.summary.replaceChildren();
    this.empty.textContent = why;
    this.empty.hidden = false;
  }

  hide(): void {
    this.poller.stop();
  }

  reload(): void {
    const custom = this.windowSel.value === 'custom';
    syncCustomWindow(this.form, custom, this.from, this.to);
    this.state.save();
    this.chart.showLoading();
    void this.poller.now();
  }

  private fillRecent(tasks: string[]): void {
    byId('cr-recent', HTMLDataListElement).replaceChildren(...tasks.map((t) => new Option(t, t)));
  }

  private async load(signal: AbortSignal): Promise<boolean> {
    const task = this.task.value.trim();
    const w = resolveWindow(
      { preset: this.windowSel.value, duration: PRESETS[this.windowSel.value], start: parseZonedInput(this.from.value), end: parseZonedInput(this.to.value) },
      // The newest second or two may not be written yet (the server flushes every second):
      // stopping short of them keeps them from flashing up as an outage at the live edge.
      Date.now() - SETTLE_MS, MAX_SPAN,
    );
    if (!task) {
      const none = this.names !== undefined && this.names.tasks.length === 0;
      const why = none
        ? 'This project has no carousel tasks yet: a task appears when its first samples arrive.'
        : 'Pick a carousel task above, or type its id.';
      this.clear(why);
      this.status.textContent = why;
      return false;
    }
    if (typeof w === 'string') {
      this.clear(w);
      this.status.textContent = w;
      return false;
    }
    const params = new URLSearchParams({ carousel_task_id: task });
    windowParams(w, params);
    try {
      const json = await apiGet(this.shell.session(), 'stats/carousel-task/detail', params, signal);
      const shape = shapeCarousel(parseCarousel(json));
      this.fillRecent(rememberTask(task));
      this.render(shape, w.live);
      this.shell.ok();
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      this.clear('No chart: the last load failed (see the message above)');
      this.shell.fail(err);
      this.status.textContent = `Last attempt failed at ${clock(Date.now())}`;
    }
    return w.live;
  }

  private render(shape: CarouselShape, live: boolean): void {
    this.chart.setOption({ ...zoneOption(4), ...carouselSeries(shape) }, { replaceMerge: ['series'] });
    this.chart.hideLoading();
    this.empty.textContent = 'No data for this window';
    this.empty.hidden = shape.seconds > 0 && shape.outageSeconds < shape.seconds;
    const last = (list: Array<[number, number]>): string => integer(list[list.length - 1]?.[1] ?? 0);
    const items: Array<[string, string]> = [
      ['last second', `${last(shape.videoFps)} fps · ${last(shape.videoKbps)} kbps video, ${last(shape.audioFps)} fps · ${last(shape.audioKbps)} kbps audio`],
      ['outages', `${shape.outages.length} (${integer(shape.outageSeconds)} s)`],
      ['up', shape.seconds > 0 ? share(1 - shape.outageSeconds / shape.seconds) : '–'],
    ];
    this.summary.replaceChildren(...items.map(([k, v]) => {
      const d = el('div');
      d.append(el('dt', k), el('dd', v));
      return d;
    }));
    const refresh = live ? ` · refreshes every ${Math.round(this.shell.refreshMs / 1000)} s` : '';
    this.status.textContent = `Updated ${clock(Date.now())} · ${integer(shape.seconds)} seconds${refresh}`;
    countLoad('carousel');
  }
}
