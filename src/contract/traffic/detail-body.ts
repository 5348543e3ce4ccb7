import { SECOND } from '../time.js';
import { renderValueTimes } from '../value-time-body.js';
import { bandwidthBps } from './bandwidth.js';
import type { DetailKind } from './detail.js';
import type { SlotRange } from './slots.js';

/** What rendering a detail answer needs besides the bytes (a read worker receives it with the filter). */
export interface DetailShape {
  kind: DetailKind;
  slots: SlotRange;
}

/**
 * The ListDomainTrafficDetail / ListBandwidthDetail answer rendered straight to bytes: the same
 * bytes as `detailJson(q, bytes)` (property-tested), without a string per entry. `bytes[i]` is the
 * byte count of slot `slots.from + i x slotMs`.
 */
export function renderDetail(q: DetailShape, bytes: ArrayLike<number>): Uint8Array {
  if (q.kind === 'traffic') return renderValueTimes(q.slots, bytes);
  const seconds = q.slots.slotMs / SECOND;
  const bps = new Float64Array(q.slots.count);
  for (let i = 0; i < bps.length; i++) bps[i] = bandwidthBps(bytes[i] ?? 0, seconds);
  return renderValueTimes(q.slots, bps);
}
