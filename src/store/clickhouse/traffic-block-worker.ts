// The worker thread of the ClickHouse store's traffic blocks (traffic-blocks.ts). It holds the blocks' bytes:
// hour blocks (12 five-minute byte totals of one (project, domain, hour)) posted by the main thread as they are
// built, and day blocks combined here from 24 of them. It answers a totals-only traffic query: adds up the
// blocks the main thread found current, spreads them and the SQL-read edge rows over the answer's slots and
// returns the series, or renders the detail body (renderDetail) into a reused buffer. The main thread owns
// which blocks exist (their stamps, ages, the budget) and checks the stamps; every block here is known by the
// generation the main thread gave it (unique per block), and messages arrive in the order they were posted,
// so a block an answer names was posted before it (a block missing here means this worker is a new one).
import { giveSpare } from '../../contract/json-bytes.js';
import { renderDetail } from '../../contract/traffic/detail-body.js';
import type { DetailKind } from '../../contract/traffic/detail.js';
import { serveBlockWorker } from './worker-port.js';

const HOUR = 3_600_000;
/** Five-minute slots per hour block. */
const HOUR_SLOTS = 12;
const DAY_HOURS = 24;

export type TrafficWorkerRequest =
  /** Keep hour blocks: gens[i]'s bytes are bytes[i * 12 .. i * 12 + 12) (transferred; kept as views of it). */
  | { type: 'keep'; gens: Float64Array; bytes: Float64Array }
  /** Keep day block `gen`: the 24 hour blocks `hours` (gens, in hour order) one after the other. */
  | { type: 'day'; gen: number; hours: number[] }
  | { type: 'drop'; gens: number[] }
  /** Keep group block `gen`: the blocks `parts` (gens: every asked domain's day blocks of one day, or hour blocks of one hour) added up. */
  | { type: 'group'; gen: number; parts: number[] }
  | TrafficAnswerRequest;

/**
 * The answer over hours [firstHour, firstHour + hours): per current block part (added up by hour in this
 * order) `gens` holds its block and `parts` (first slot in the block, first slot of the hours, slots: whole
 * hours, 12 slots each); the hours marked in
 * `staleHour` are left out (SQL read them for every domain); `extra` are the SQL-read rows (answer slot
 * index, bytes). `render`: the detail body of that kind, else the series.
 */
export interface TrafficAnswerRequest {
  type: 'answer'; id?: number; gens: Float64Array; parts: Int32Array; firstHour: number; hours: number; staleHour: Uint8Array;
  from: number; to: number; slotMs: number; count: number; extra: { at: Int32Array; bytes: Float64Array };
  render: DetailKind | null;
  /** A sent answer's buffer given back (transferred), rendered into again instead of fresh memory. */
  spare?: ArrayBuffer;
}

export type TrafficWorkerReply =
  | { id: number; series: Float64Array }
  | { id: number; body: Uint8Array }
  | { id: number; missing: true }
  | { id: number; error: string };

/** A block here: its bytes per five-minute slot (hour blocks: 12; day blocks: 288) and per hour (their sums: 1; 24). */
interface Held {
  slots: Float64Array;
  hours: Float64Array;
}

/** Every block here by generation. */
const blocks = new Map<number, Held>();
/** The sums of the last answer by slot and by hour, reused (grown as needed). */
let bySlot = new Float64Array(0);
let byHour = new Float64Array(0);

function keepHours(gens: Float64Array, bytes: Float64Array): void {
  for (let i = 0; i < gens.length; i++) {
    const slots = bytes.subarray(i * HOUR_SLOTS, (i + 1) * HOUR_SLOTS);
    let sum = 0;
    for (let s = 0; s < HOUR_SLOTS; s++) sum += slots[s] as number;
    blocks.set(gens[i] as number, { slots, hours: Float64Array.of(sum) });
  }
}

function combine(gen: number, hours: readonly number[]): void {
  const day: Held = { slots: new Float64Array(DAY_HOURS * HOUR_SLOTS), hours: new Float64Array(DAY_HOURS) };
  for (let i = 0; i < DAY_HOURS; i++) {
    const b = blocks.get(hours[i] as number);
    // Not here (this is a worker started since): no day block; an answer naming it is answered 'missing'.
    if (b === undefined) return;
    day.slots.set(b.slots, i * HOUR_SLOTS);
    day.hours[i] = b.hours[0] as number;
  }
  blocks.set(gen, day);
}

function group(gen: number, parts: readonly number[]): void {
  const first = blocks.get(parts[0] as number);
  if (first === undefined) return;
  const g: Held = { slots: new Float64Array(first.slots.length), hours: new Float64Array(first.hours.length) };
  for (const part of parts) {
    const b = blocks.get(part);
    // Not here (this is a worker started since), or not the first one's shape: no group block; an answer naming it is answered 'missing'.
    if (b === undefined || b.slots.length !== g.slots.length) return;
    for (let i = 0; i < g.slots.length; i++) g.slots[i] = (g.slots[i] as number) + (b.slots[i] as number);
    for (let i = 0; i < g.hours.length; i++) g.hours[i] = (g.hours[i] as number) + (b.hours[i] as number);
  }
  blocks.set(gen, g);
}

/** The parts' blocks (undefined when one is not here). */
function heldOf(gens: Float64Array): Held[] | undefined {
  const out: Held[] = [];
  for (let k = 0; k < gens.length; k++) {
    const b = blocks.get(gens[k] as number);
    if (b === undefined) return undefined;
    out.push(b);
  }
  return out;
}

/** `into` (zeroed over n) += each part's values: by five-minute slot, or (`hourly`) by hour. */
function addParts(into: Float64Array, n: number, held: readonly Held[], parts: Int32Array, hourly: boolean): void {
  into.fill(0, 0, n);
  for (let k = 0; k < held.length; k++) {
    const h = held[k] as Held;
    const values = hourly ? h.hours : h.slots;
    const shift = hourly ? HOUR_SLOTS : 1;
    let src = ((parts[k * 3] as number) / shift) | 0;
    let at = ((parts[k * 3 + 1] as number) / shift) | 0;
    const end = (src + (parts[k * 3 + 2] as number) / shift) | 0;
    for (; src < end; src++, at++) into[at] = (into[at] as number) + (values[src] as number);
  }
}

/**
 * The answer's series: the extra rows, then the parts added up by hour and spread over the slots. Slots of
 * whole hours (from a whole hour): each hour's sum (its 12 slots' integers added up exactly, as here in
 * any order) goes to one slot, so the hours are added up instead of the 12x more five-minute slots.
 */
function answerSeries(m: TrafficAnswerRequest): Float64Array | undefined {
  const held = heldOf(m.gens);
  if (held === undefined) return undefined;
  const out = new Float64Array(m.count);
  for (let r = 0; r < m.extra.at.length; r++) {
    const i = m.extra.at[r] as number;
    out[i] = (out[i] as number) + (m.extra.bytes[r] as number);
  }
  const per = m.slotMs % HOUR === 0 && m.from % HOUR === 0 ? 1 : HOUR_SLOTS;
  const n = m.hours * per;
  if (per === 1 && byHour.length < n) byHour = new Float64Array(n);
  if (per !== 1 && bySlot.length < n) bySlot = new Float64Array(n);
  const sums = per === 1 ? byHour : bySlot;
  addParts(sums, n, held, m.parts, per === 1);
  const slotMs = HOUR / per;
  for (let h = 0; h < m.hours; h++) {
    if (m.staleHour[h]) continue;
    const start = (m.firstHour + h) * HOUR - m.from;
    for (let s = 0; s < per; s++) {
      const v = sums[h * per + s] as number;
      if (v === 0) continue;
      const i = Math.floor((start + s * slotMs) / m.slotMs);
      if (i >= 0 && i < m.count) out[i] = (out[i] as number) + v;
    }
  }
  return out;
}

function handle(m: TrafficWorkerRequest): [TrafficWorkerReply, ArrayBuffer[]] | undefined {
  if (m.type === 'keep') {
    keepHours(m.gens, m.bytes);
    return undefined;
  }
  if (m.type === 'day') {
    combine(m.gen, m.hours);
    return undefined;
  }
  if (m.type === 'group') {
    group(m.gen, m.parts);
    return undefined;
  }
  if (m.type === 'drop') {
    for (const gen of m.gens) blocks.delete(gen);
    return undefined;
  }
  const id = m.id as number;
  if (m.spare) giveSpare(m.spare);
  const series = answerSeries(m);
  if (series === undefined) return [{ id, missing: true }, []];
  if (m.render === null) return [{ id, series }, [series.buffer as ArrayBuffer]];
  const body = renderDetail({ kind: m.render, slots: { slotMs: m.slotMs, from: m.from, to: m.to, count: m.count } }, series);
  // A view of the renderer's buffer, handed over (transferred, not copied).
  return [{ id, body }, [body.buffer as ArrayBuffer]];
}

serveBlockWorker<TrafficWorkerRequest>('traffic-block-worker', handle, (m) => m.type === 'answer');
