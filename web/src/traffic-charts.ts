import type { BarSeriesOption, LineSeriesOption } from 'echarts/charts';
import { IN_PROGRESS, timeTooltip, type Option } from './charts.js';
import { PARTIAL_COLOUR } from './colours.js';
import { splitPartial } from './partial.js';
import { formatBps, formatBytes, type SplitRow, type TimeValue } from './traffic-shape.js';

export const BANDWIDTH_COLOUR = '#2563c9';
const SPLIT_COLOUR = '#00838f';

/** The static parts of the bandwidth chart; data arrives through `bandwidthSeries` (zoom survives refreshes). */
export function bandwidthBase(partialFrom: () => number | undefined): Option {
  return {
    animation: false,
    tooltip: { trigger: 'axis', confine: true, formatter: timeTooltip((_name, v) => formatBps(v), partialFrom) },
    grid: { left: 72, right: 24, top: 32, bottom: 76 },
    xAxis: { type: 'time', axisLabel: { hideOverlap: true }, nameLocation: 'middle', nameGap: 24, nameTextStyle: { color: '#6b7785' } },
    yAxis: { type: 'value', name: 'bandwidth', nameTextStyle: { align: 'left' }, axisLabel: { formatter: (v: number) => formatBps(v) } },
    dataZoom: [{ type: 'inside' }, { type: 'slider', height: 20, bottom: 4 }],
  };
}

const slotName = (intervalS: number): string => (intervalS === 300 ? '5 min' : intervalS === 3600 ? 'hour' : 'day');

/**
 * The complete slots as the bandwidth line, and the slots not ended by `now` as a dashed grey
 * "in progress" line from the last complete slot (their average so far counts a part of the slot only).
 */
export function bandwidthSeries(points: readonly TimeValue[], intervalS: number, now: number): Option {
  const { complete, partial } = splitPartial(points, (p) => p.time, intervalS * 1000, now);
  const line = (p: TimeValue): [number, number] => [p.time, p.value];
  const last = complete[complete.length - 1];
  const series: LineSeriesOption[] = [{
    id: 'bandwidth',
    name: `average bps per ${slotName(intervalS)}`,
    type: 'line',
    step: 'start',
    symbol: 'none',
    color: BANDWIDTH_COLOUR,
    areaStyle: { opacity: 0.15 },
    lineStyle: { width: 1.5 },
    data: complete.map(line),
  }, {
    id: 'in-progress',
    name: IN_PROGRESS,
    type: 'line',
    step: 'start',
    symbol: 'circle',
    symbolSize: 5,
    color: PARTIAL_COLOUR,
    lineStyle: { width: 1.5, type: 'dashed' },
    data: partial.length > 0 ? [...(last ? [line(last)] : []), ...partial.map(line)] : [],
  }];
  return { series };
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
    xAxis: { type: 'value', splitNumber: 3, axisLabel: { hideOverlap: true, formatter: (v: number) => formatBytes(v) } },
    yAxis: { type: 'category', data: shown.map((r) => r.name) },
    series: [series],
  };
}
