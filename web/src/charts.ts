import { BarChart, LineChart, type BarSeriesOption, type LineSeriesOption } from 'echarts/charts';
import {
  DataZoomComponent, GridComponent, LegendComponent, MarkAreaComponent, TooltipComponent,
  type DataZoomComponentOption, type GridComponentOption, type LegendComponentOption,
  type MarkAreaComponentOption, type TooltipComponentOption,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { codeColours, ERROR_COLOUR, OK_COLOUR, OUTAGE_FILL, SHARE_COLOUR } from './colours.js';
import { regionName } from './regions.js';
import type { CarouselShape, PlaybackShape, ProvinceRow } from './shape.js';

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

/** The static parts of the requests chart; data arrives through `playbackSeries` (zoom survives refreshes). */
export function playbackBase(): Option {
  return {
    animation: false,
    tooltip: { trigger: 'axis', axisPointer: { type: 'line' } },
    legend: { type: 'scroll', top: 0 },
    grid: { left: 56, right: 56, top: 56, bottom: 64 },
    xAxis: { type: 'time', axisLabel: { hideOverlap: true } },
    yAxis: [
      { type: 'value', name: 'requests / min', nameTextStyle: { align: 'left' } },
      { type: 'value', name: 'error share', min: 0, axisLabel: { formatter: (v: number) => percent(v) }, splitLine: { show: false } },
    ],
    dataZoom: [{ type: 'inside' }, { type: 'slider', height: 20, bottom: 8 }],
  };
}

export function playbackSeries(shape: PlaybackShape): Option {
  const colours = codeColours(shape.codes);
  const series: LineSeriesOption[] = shape.codes.map((c, i) => ({
    id: `code-${c.code}`,
    name: String(c.code),
    type: 'line',
    stack: 'requests',
    areaStyle: { opacity: 0.85 },
    lineStyle: { width: 0.5 },
    symbol: 'none',
    color: colours[i],
    data: c.points,
  }));
  series.push({
    id: 'error-share',
    name: 'error share (4xx+5xx)',
    type: 'line',
    yAxisIndex: 1,
    symbol: 'none',
    color: SHARE_COLOUR,
    lineStyle: { width: 1.5, type: 'dashed' },
    tooltip: { valueFormatter: (v) => (typeof v === 'number' ? percent(v) : '–') },
    data: shape.errorShare,
  });
  return { series };
}

export function provincesOption(rows: ProvinceRow[]): Option {
  const shown = [...rows].reverse();
  return {
    animation: false,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 0 },
    grid: { left: 110, right: 24, top: 32, bottom: 24 },
    xAxis: { type: 'value', name: 'requests' },
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
    xAxis: CAROUSEL_PANELS.map((_, i) => ({ type: 'time', gridIndex: i, axisLabel: { show: i === n - 1, hideOverlap: true } })),
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
