import { IP_TYPE_CODES, ispOfGeo, PACKED_CODES, PACKED_GEOS, PROTOCOL_CODES, regionOfGeo, unpackKey, type ProjectCells } from '../packed.js';
import type { StoredIpType, StoredProtocol } from '../../contract/traffic/values.js';
import type { TrafficRow } from '../traffic.js';
import type { CountRow } from '../types.js';

/**
 * The packed cells of a write batch (Store.writesPacked: the parse workers' columns, several per
 * batch) as the ClickHouse store's count and traffic rows, the cells of one key summed: what the
 * aggregator's add()/addTraffic() made of them for a store of rows, without a key string per cell
 * (a dense file's ~630,000 cells: the strings and their garbage were most of that step). A cell's
 * key is a number: its (domain, minute) or (domain, app, stream, slot) interned once per distinct
 * value, then combined with the geo, code, protocol and address family codes. The rows come out in
 * the order their keys first appear, so the same batch always gives the same rows (a retry's chunks
 * are the first attempt's).
 */

interface Interned<T> {
  index: Map<string, number>;
  values: T[];
}

const interned = <T>(): Interned<T> => ({ index: new Map(), values: [] });

function intern<T>(t: Interned<T>, key: string, value: () => T): number {
  let i = t.index.get(key);
  if (i === undefined) {
    i = t.values.length;
    t.values.push(value());
    t.index.set(key, i);
  }
  return i;
}

export function packedRows(packed: readonly ProjectCells[]): { counts: CountRow[]; traffic: TrafficRow[] } {
  // Counts: (project, domain, minute) interned; key = (slot x PACKED_GEOS + geo) x PACKED_CODES + code.
  const slots = interned<{ project: string; domain: string; minute: number }>();
  const countAt = new Map<number, number>();
  const counts: CountRow[] = [];
  // Traffic: (project, domain, app, stream, slot) interned; key = ((slot x 256 + geo) x 4 + protocol) x 4 + ip type.
  const streams = interned<{ project: string; domain: string; app: string; stream: string; slot: number }>();
  const trafficAt = new Map<number, number>();
  const traffic: TrafficRow[] = [];
  for (const { project, cells: c } of packed) {
    // This packed batch's slots and tuples to the interned ones (a string key per slot or tuple, not per cell).
    const slotOf = c.slotDomains.map((domain, s) => {
      const minute = c.slotMinutes[s] as number;
      return intern(slots, `${project}\u0000${domain}\u0000${minute}`, () => ({ project, domain, minute }));
    });
    for (let i = 0; i < c.keys.length; i++) {
      const { slot, geo, code } = unpackKey(c.keys[i] as number);
      const s = slotOf[slot] as number;
      const key = (s * PACKED_GEOS + geo) * PACKED_CODES + code;
      const at = countAt.get(key);
      if (at !== undefined) {
        const row = counts[at] as CountRow;
        row.count += c.counts[i] as number;
        row.bytes = (row.bytes ?? 0) + (c.bytes[i] as number);
        continue;
      }
      const { domain, minute } = slots.values[s] as { domain: string; minute: number };
      countAt.set(key, counts.length);
      counts.push({ project, domain, minute, region: regionOfGeo(geo), isp: ispOfGeo(geo), code, count: c.counts[i] as number, bytes: c.bytes[i] as number });
    }
    const t = c.traffic;
    if (!t) continue;
    // Per tuple of this batch, per slot: the interned (tuple, slot); the slots of a batch are few.
    const tupleSlot = new Map<number, Map<number, number>>();
    for (let i = 0; i < t.tuple.length; i++) {
      const k = t.tuple[i] as number;
      const slotMs = t.slot[i] as number;
      let bySlot = tupleSlot.get(k);
      if (bySlot === undefined) tupleSlot.set(k, (bySlot = new Map()));
      let ts = bySlot.get(slotMs);
      if (ts === undefined) {
        const domain = t.domains[k] as string;
        const app = t.apps[k] as string;
        const stream = t.streams[k] as string;
        ts = intern(streams, `${project}\u0000${domain}\u0000${app}\u0000${stream}\u0000${slotMs}`, () => ({ project, domain, app, stream, slot: slotMs }));
        bySlot.set(slotMs, ts);
      }
      const geo = t.geo[i] as number;
      const protocol = t.protocol[i] as number;
      const ipType = t.ipType[i] as number;
      const key = ((ts * PACKED_GEOS + geo) * 4 + protocol) * 4 + ipType;
      const at = trafficAt.get(key);
      if (at !== undefined) {
        const row = traffic[at] as TrafficRow;
        row.requests += t.requests[i] as number;
        row.bytes += t.bytes[i] as number;
        continue;
      }
      const v = streams.values[ts] as { domain: string; app: string; stream: string; slot: number };
      trafficAt.set(key, traffic.length);
      traffic.push({
        project, domain: v.domain, app: v.app, stream: v.stream, protocol: PROTOCOL_CODES[protocol] as StoredProtocol,
        region: regionOfGeo(geo), isp: ispOfGeo(geo), ipType: IP_TYPE_CODES[ipType] as StoredIpType, slot: v.slot,
        requests: t.requests[i] as number, bytes: t.bytes[i] as number,
      });
    }
  }
  return { counts, traffic };
}
