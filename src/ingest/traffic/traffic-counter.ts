import type { StoredIpType, StoredProtocol } from '../../contract/traffic/values.js';

/** The traffic cube's slot: 5 minutes. */
export const TRAFFIC_SLOT_MS = 300_000;

export const PROTOCOL_CODES: readonly StoredProtocol[] = ['flv', 'hls', 'other'];
export const IP_TYPE_CODES: readonly StoredIpType[] = ['v4', 'v6', 'other'];
const PROTOCOL_INDEX = new Map<StoredProtocol, number>(PROTOCOL_CODES.map((p, i) => [p, i]));
const IP_TYPE_INDEX = new Map<StoredIpType, number>(IP_TYPE_CODES.map((p, i) => [p, i]));
/** Geo codes as the resolver answers them: region index x 4 + isp index (35 x 4). */
const GEOS = 140;
const KINDS = PROTOCOL_CODES.length * IP_TYPE_CODES.length;

/**
 * What a TrafficCounter drained: the distinct (domain, app, stream) tuples, and one cell per
 * (tuple, 5-minute slot, geo, protocol, ip type) with its requests and bytes. Only typed arrays and
 * string arrays, so it crosses a worker boundary by structured clone cheaply.
 */
export interface TrafficBatch {
  domains: string[];
  apps: string[];
  streams: string[];
  /** Per cell: index into domains/apps/streams. */
  tuple: Int32Array;
  /** Per cell: slot start, epoch ms. */
  slot: Float64Array;
  geo: Uint8Array;
  protocol: Uint8Array;
  ipType: Uint8Array;
  requests: Float64Array;
  bytes: Float64Array;
}

/**
 * Sums log lines into traffic cells (sparse: a cell exists only where traffic does). Strings are
 * interned per drain, so a batch carries each (domain, app, stream) once.
 */
export class TrafficCounter {
  private tupleIndex = new Map<string, number>();
  private domains: string[] = [];
  private apps: string[] = [];
  private streams: string[] = [];
  /** Per tuple: slot -> dense (tuple, slot) id; a cell is id x 140 x 9 + geo x 9 + kind. */
  private tupleSlots: Array<Map<number, number>> = [];
  private tupleSlotTuple: number[] = [];
  private tupleSlotSlot: number[] = [];
  private cells = new Map<number, number>();
  private cellKeys: number[] = [];
  private requests: number[] = [];
  private bytes: number[] = [];

  get size(): number {
    return this.cellKeys.length;
  }

  /** Counts `n` requests of one (domain, app, stream, protocol) at `time` sending `bytes` in all. */
  add(
    domain: string, app: string, stream: string, protocol: StoredProtocol, time: number, geo: number, ipType: StoredIpType,
    bytes: number, n = 1,
  ): void {
    const tk = `${domain}\u0000${app}\u0000${stream}`;
    let tuple = this.tupleIndex.get(tk);
    if (tuple === undefined) {
      tuple = this.domains.length;
      this.tupleIndex.set(tk, tuple);
      this.domains.push(domain);
      this.apps.push(app);
      this.streams.push(stream);
      this.tupleSlots.push(new Map());
    }
    const slot = Math.floor(time / TRAFFIC_SLOT_MS);
    const slots = this.tupleSlots[tuple] as Map<number, number>;
    let ts = slots.get(slot);
    if (ts === undefined) {
      ts = this.tupleSlotTuple.length;
      slots.set(slot, ts);
      this.tupleSlotTuple.push(tuple);
      this.tupleSlotSlot.push(slot * TRAFFIC_SLOT_MS);
    }
    const kind = (PROTOCOL_INDEX.get(protocol) as number) * IP_TYPE_CODES.length + (IP_TYPE_INDEX.get(ipType) as number);
    const key = (ts * GEOS + geo) * KINDS + kind;
    const i = this.cells.get(key);
    if (i === undefined) {
      this.cells.set(key, this.cellKeys.length);
      this.cellKeys.push(key);
      this.requests.push(n);
      this.bytes.push(bytes);
    } else {
      this.requests[i] = (this.requests[i] as number) + n;
      this.bytes[i] = (this.bytes[i] as number) + bytes;
    }
  }

  /** Everything counted so far, and starts empty. */
  drain(): TrafficBatch {
    const n = this.cellKeys.length;
    const batch: TrafficBatch = {
      domains: this.domains, apps: this.apps, streams: this.streams,
      tuple: new Int32Array(n), slot: new Float64Array(n), geo: new Uint8Array(n), protocol: new Uint8Array(n),
      ipType: new Uint8Array(n), requests: Float64Array.from(this.requests), bytes: Float64Array.from(this.bytes),
    };
    for (let i = 0; i < n; i++) {
      const key = this.cellKeys[i] as number;
      const kind = key % KINDS;
      const rest = (key - kind) / KINDS;
      const geo = rest % GEOS;
      const ts = (rest - geo) / GEOS;
      batch.tuple[i] = this.tupleSlotTuple[ts] as number;
      batch.slot[i] = this.tupleSlotSlot[ts] as number;
      batch.geo[i] = geo;
      batch.protocol[i] = Math.floor(kind / IP_TYPE_CODES.length);
      batch.ipType[i] = kind % IP_TYPE_CODES.length;
    }
    this.tupleIndex = new Map();
    this.domains = [];
    this.apps = [];
    this.streams = [];
    this.tupleSlots = [];
    this.tupleSlotTuple = [];
    this.tupleSlotSlot = [];
    this.cells = new Map();
    this.cellKeys = [];
    this.requests = [];
    this.bytes = [];
    return batch;
  }
}

/** One decoded cell of a batch. */
export interface TrafficCell {
  domain: string;
  app: string;
  stream: string;
  protocol: StoredProtocol;
  ipType: StoredIpType;
  /** Slot start, epoch ms. */
  slot: number;
  geo: number;
  requests: number;
  bytes: number;
}

/** Calls fn for each cell of a drained batch. */
export function forEachTrafficCell(batch: TrafficBatch, fn: (cell: TrafficCell) => void): void {
  for (let i = 0; i < batch.tuple.length; i++) {
    const t = batch.tuple[i] as number;
    fn({
      domain: batch.domains[t] as string, app: batch.apps[t] as string, stream: batch.streams[t] as string,
      protocol: PROTOCOL_CODES[batch.protocol[i] as number] as StoredProtocol,
      ipType: IP_TYPE_CODES[batch.ipType[i] as number] as StoredIpType,
      slot: batch.slot[i] as number, geo: batch.geo[i] as number,
      requests: batch.requests[i] as number, bytes: batch.bytes[i] as number,
    });
  }
}
