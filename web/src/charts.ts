import { BarChart, LineChart, type BarSeriesOption, type LineSeriesOption } from 'echarts/charts';
import {
  DataZoomComponent, GridComponent, LegendComponent, MarkAreaComponent, TooltipComponent,
  type DataZoomComponentOption, type GridComponentOption, type LegendComponentOption,
  type MarkAreaComponentOption, type TooltipComponentOption,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { codeColour, ERROR_COLOUR, OK_COLOUR, OUTAGE_FILL, PARTIAL_COLOUR, SERVER_SHARE_COLOUR, SHARE_COLOUR } from './colours.js';
import { regionName } from './regions.js';
import { MINUTE_MS, type CarouselShape, type PlaybackShape, type ProvinceRow } from './shape.js';
import { currentZone, formatDateTime, zoneLabel } from './tz.js';

echarts.use([LineChart, BarChart, GridComponent, TooltipComponent, LegendComponent, DataZoomComponent, MarkAreaComponent, CanvasRenderer]);

export type Option = echarts.ComposeOption<
  LineSeriesOption | BarSeriesOption | GridComponentOption | TooltipComponentOption | LegendComponentOption |
  DataZoomComponentOption | MarkAreaComponentOption
>;
export type Chart = echarts.ECharts;

/** A chart in `el` that follows the size of its container. */
export function createChart(el: HTMLElement): Chart {
  const chart = echarts.init(el, undefined, { renderer: 'canvas' });
  new ResizeObserver(() => chart.resize()).observe(el);
  return chart;
}

const percent = (v: number): string => `${(v * 100).toFixed(v < 0.1 ? 2 : 1)}%`;

/** Removes every series (the chart's axes stay): an error must not leave the previous answer drawn. */
export function clearChart(chart: Chart): void {
  // A tooltip left showing would point at series that no longer exist (echarts then throws on redraw).
  chart.dispatchAction({ type: 'hideTip' });
  chart.setOption({ series: [] }, { replaceMerge: ['series'] });
}

/** The time axis in the chosen zone (echarts' `useUTC`) with the zone named under it. */
export function zoneOption(axes = 1): Option {
  const label = `time (${zoneLabel()})`;
  return {
    useUTC: currentZone() === 'utc',
    xAxis: Array.from({ length: axes }, (_, i) => ({ name: i === axes - 1 ? label : '' })),
  };
}

/** Where a time axis names its zone: centred under its labels. */
const ZONE_NAME = { nameLocation: 'middle', nameGap: 24, nameTextStyle: { color: '#6b7785' } } as const;

export const ERROR_SHARE = 'error share (4xx+5xx)';
export const SERVER_SHARE = '5xx share';
export const IN_PROGRESS = 'in progress';

interface AxisParam { axisValue?: unknown; marker?: unknown; seriesName?: string; value?: unknown }

/**
 * An axis tooltip that writes the time in the chosen zone (and says so), adds "in progress" for a
 * slot that had not ended when loaded (`partialFrom`: the first such slot's start), and formats values.
 */
export function timeTooltip(format: (seriesName: string, v: number) => string, partialFrom: () => number | undefined) {
  return (params: unknown): string => {
    const list = (Array.isArray(params) ? params : [params]) as AxisParam[];
    const t = Number(list[0]?.axisValue);
    const from = partialFrom();
    const partial = from !== undefined && t >= from;
    const head = `${formatDateTime(t)} <span style="color:#6b7785">(${zoneLabel()})</span>${partial ? ' · <b>in progress</b>' : ''}`;
    const rows = list.flatMap((p) => {
      const v = Array.isArray(p.value) ? p.value[1] : p.value;
      if (typeof v !== 'number' || (p.seriesName === IN_PROGRESS && !partial)) return [];
      return [`${typeof p.marker === 'string' ? p.marker : ''}${p.seriesName ?? ''}: <b>${format(p.seriesName ?? '', v)}</b>`];
    });
    return [head, ...rows].join('<br/>');
  };
}

/** The static parts of the requests chart; data arrives through `playbackSeries` (zoom survives refreshes). */
export function playbackBase(partialFrom: () => number | undefined): Option {
  const shareNames = new Set([ERROR_SHARE, SERVER_SHARE]);
  return {
    animation: false,
    tooltip: {
      trigger: 'axis', axisPointer: { type: 'line' }, confine: true,
      formatter: timeTooltip((name, v) => (shareNames.has(name) ? percent(v) : Math.round(v).toLocaleString('en-US')), partialFrom),
    },
    legend: { type: 'scroll', top: 0 },
    grid: { left: 56, right: 56, top: 56, bottom: 76 },
    xAxis: { type: 'time', axisLabel: { hideOverlap: true }, ...ZONE_NAME },
    yAxis: [
      { type: 'value', name: 'requests / min', nameTextStyle: { align: 'left' } },
      { type: 'value', name: 'error share', min: 0, axisLabel: { formatter: (v: number) => percent(v) }, splitLine: { show: false } },
    ],
    dataZoom: [{ type: 'inside' }, { type: 'slider', height: 20, bottom: 4 }],
  };
}

/**
 * Complete minutes stacked by code (fixed colours), the two share lines, and the minute in
 * progress as a dashed grey line from the last complete minute's total to its requests so far.
 */
export function playbackSeries(shape: PlaybackShape): Option {
  const series: LineSeriesOption[] = shape.codes.map((c) => ({
    id: `code-${c.code}`,
    name: String(c.code),
    type: 'line',
    stack: 'requests',
    areaStyle: { opacity: 0.85 },
    lineStyle: { width: 0.5 },
    symbol: 'none',
    color: codeColour(c.code),
    data: c.points,
  }));
  series.push({
    id: 'error-share', name: ERROR_SHARE, type: 'line', yAxisIndex: 1, symbol: 'none', color: SHARE_COLOUR,
    lineStyle: { width: 1.5, type: 'dashed' }, data: shape.errorShare,
  }, {
    id: 'server-share', name: SERVER_SHARE, type: 'line', yAxisIndex: 1, symbol: 'none', color: SERVER_SHARE_COLOUR,
    lineStyle: { width: 1.5, type: 'dotted' }, data: shape.serverErrorShare,
  });
  const last = shape.minutes[shape.minutes.length - 1];
  const p = shape.partial;
  series.push({
    id: 'in-progress', name: IN_PROGRESS, type: 'line', symbol: 'circle', symbolSize: 5, color: PARTIAL_COLOUR,
    lineStyle: { width: 1.5, type: 'dashed' },
    // The dashed stretch starts at the last complete minute; its tooltip row is the partial minute's.
    data: p ? [...(last && last.time + MINUTE_MS === p.time ? [[last.time, last.total] as [number, number]] : []), [p.time, p.total]] : [],
  });
  return { series };
}

export function provincesOption(rows: ProvinceRow[]): Option {
  const shown = [...rows].reverse();
  return {
    animation: false,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 0 },
    grid: { left: 110, right: 24, top: 32, bottom: 40 },
    xAxis: { type: 'value', name: 'requests', nameLocation: 'middle', nameGap: 24, splitNumber: 3, axisLabel: { hideOverlap: true } },
    yAxis: { type: 'category', data: shown.map((r) => `${regionName(r.region)} (${r.region})`) },
    series: [
      { id: 'ok', name: '1xx–3xx', type: 'bar', stack: 'p', color: OK_COLOUR, data: shown.map((r) => r.ok) },
      { id: 'errors', name: '4xx+5xx', type: 'bar', stack: 'p', color: ERROR_COLOUR, data: shown.map((r) => r.errors) },
    ],
  };
}

const CAROUSEL_PANELS = [
  { key: 'videoFps', name: 'video fps', colour: '#1565c0' },
  { key: 'videoKbps', name: 'video kbps', colour: '#6a1b9a' },
  { key: 'audioFps', name: 'audio fps', colour: '#00838f' },
  { key: 'audioKbps', name: 'audio kbps', colour: '#ef6c00' },
] as const;

/** Four stacked panels sharing one time axis zoom; the static part. */
export function carouselBase(): Option {
  const n = CAROUSEL_PANELS.length;
  const grid: GridComponentOption[] = CAROUSEL_PANELS.map((_, i) => ({
    left: 56, right: 16, top: `${4 + (i * 84) / n}%`, height: `${84 / n - 6}%`,
  }));
  return {
    animation: false,
    tooltip: { trigger: 'axis' },
    axisPointer: { link: [{ xAxisIndex: 'all' }] },
    grid,
    xAxis: CAROUSEL_PANELS.map((_, i) => ({ type: 'time', gridIndex: i, axisLabel: { show: i === n - 1, hideOverlap: true }, ...ZONE_NAME })),
    yAxis: CAROUSEL_PANELS.map((p, i) => ({
      type: 'value', gridIndex: i, name: p.name, nameGap: 6, nameTextStyle: { align: 'left' }, splitNumber: 2,
    })),
    dataZoom: [
      { type: 'inside', xAxisIndex: CAROUSEL_PANELS.map((_, i) => i) },
      { type: 'slider', xAxisIndex: CAROUSEL_PANELS.map((_, i) => i), height: 20, bottom: 8 },
    ],
  };
}

export function carouselSeries(shape: CarouselShape): Option {
  const markArea: MarkAreaComponentOption = {
    silent: true,
    itemStyle: { color: OUTAGE_FILL },
    data: shape.outages.map(([from, to]) => [{ xAxis: from }, { xAxis: to }]),
  };
  return {
    series: CAROUSEL_PANELS.map((p, i): LineSeriesOption => ({
      id: p.key,
      name: p.name,
      type: 'line',
      xAxisIndex: i,
      yAxisIndex: i,
      symbol: 'none',
      color: p.colour,
      lineStyle: { width: 1 },
      data: shape[p.key],
      markArea,
    })),
  };
}
