import type { BarSeriesOption, LineSeriesOption } from 'echarts/charts';
import type { Option } from './charts.js';
import { formatBps, formatBytes, type SplitRow, type TimeValue } from './traffic-shape.js';

export const BANDWIDTH_COLOUR = '#2563c9';
const SPLIT_COLOUR = '#00838f';

/** The static parts of the bandwidth chart; data arrives through `bandwidthSeries` (zoom survives refreshes). */
export function bandwidthBase(): Option {
  return {
    animation: false,
    tooltip: { trigger: 'axis', valueFormatter: (v) => (typeof v === 'number' ? formatBps(v) : '–') },
    grid: { left: 72, right: 24, top: 32, bottom: 64 },
    xAxis: { type: 'time', axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value', name: 'bandwidth', nameTextStyle: { align: 'left' }, axisLabel: { formatter: (v: number) => formatBps(v) } },
    dataZoom: [{ type: 'inside' }, { type: 'slider', height: 20, bottom: 8 }],
  };
}

export function bandwidthSeries(points: readonly TimeValue[], intervalS: number): Option {
  const series: LineSeriesOption = {
    id: 'bandwidth',
    name: `average bps per ${intervalS === 300 ? '5 min' : intervalS === 3600 ? 'hour' : 'day'}`,
    type: 'line',
    step: 'start',
    symbol: 'none',
    color: BANDWIDTH_COLOUR,
    areaStyle: { opacity: 0.15 },
    lineStyle: { width: 1.5 },
    data: points.map((p) => [p.time, p.value]),
  };
  return { series: [series] };
}

/** A horizontal bar chart of bytes per part (protocols, carriers). */
export function splitOption(rows: readonly SplitRow[]): Option {
  const shown = [...rows].reverse();
  const series: BarSeriesOption = {
    id: 'bytes', name: 'bytes', type: 'bar', color: SPLIT_COLOUR, data: shown.map((r) => r.bytes),
    label: { show: true, position: 'right', formatter: (p) => formatBytes(Number(p.value)) },
  };
  return {
    animation: false,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v) => (typeof v === 'number' ? formatBytes(v) : '–') },
    grid: { left: 110, right: 72, top: 8, bottom: 24 },
    xAxis: { type: 'value', axisLabel: { formatter: (v: number) => formatBytes(v) } },
    yAxis: { type: 'category', data: shown.map((r) => r.name) },
    series: [series],
  };
}
