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
const SLOT_MS = 300_000;
/** Five-minute slots per hour block. */
const HOUR_SLOTS = 12;
const DAY_HOURS = 24;

export type TrafficWorkerRequest =
  /** Keep hour blocks: gens[i]'s bytes are bytes[i * 12 .. i * 12 + 12) (transferred; kept as views of it). */
  | { type: 'keep'; gens: Float64Array; bytes: Float64Array }
  /** Keep day block `gen`: the 24 hour blocks `hours` (gens, in hour order) one after the other. */
  | { type: 'day'; gen: number; hours: number[] }
  | { type: 'drop'; gens: number[] }
  | TrafficAnswerRequest;

/**
 * The answer over hours [firstHour, firstHour + hours): `picks` holds (gen, first slot in the block, first
 * slot of the hours, slots) per current block part (added up by hour in this order); the hours marked in
 * `staleHour` are left out (SQL read them for every domain); `extra` are the SQL-read rows (answer slot
 * index, bytes). `render`: the detail body of that kind, else the series.
 */
export interface TrafficAnswerRequest {
  type: 'answer'; id?: number; picks: Float64Array; firstHour: number; hours: number; staleHour: Uint8Array;
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

/** Bytes of every block here by generation (hour blocks: 12 slots; day blocks: 288). */
const blocks = new Map<number, Float64Array>();
/** The per-hour sums of the last answer, reused (grown as needed). */
let byHour = new Float64Array(0);

function combine(gen: number, hours: readonly number[]): void {
  const day = new Float64Array(DAY_HOURS * HOUR_SLOTS);
  for (let i = 0; i < DAY_HOURS; i++) {
    const b = blocks.get(hours[i] as number);
    // Not here (this is a worker started since): no day block; an answer naming it is answered 'missing'.
    if (b === undefined) return;
    day.set(b, i * HOUR_SLOTS);
  }
  blocks.set(gen, day);
}

/** The answer's series: the extra rows, then the picked blocks' bytes added up by hour and spread over the slots. */
function answerSeries(m: TrafficAnswerRequest, bytesOf: (gen: number) => Float64Array | undefined): Float64Array | undefined {
  const n = m.hours * HOUR_SLOTS;
  if (byHour.length < n) byHour = new Float64Array(n);
  const sums = byHour;
  sums.fill(0, 0, n);
  const picks = m.picks;
  for (let p = 0; p < picks.length; p += 4) {
    const bytes = bytesOf(picks[p] as number);
    if (bytes === undefined) return undefined;
    const src = picks[p + 1] as number;
    const at = picks[p + 2] as number;
    for (let s = 0, len = picks[p + 3] as number; s < len; s++) sums[at + s] = (sums[at + s] as number) + (bytes[src + s] as number);
  }
  const out = new Float64Array(m.count);
  for (let r = 0; r < m.extra.at.length; r++) {
    const i = m.extra.at[r] as number;
    out[i] = (out[i] as number) + (m.extra.bytes[r] as number);
  }
  for (let h = 0; h < m.hours; h++) {
    if (m.staleHour[h]) continue;
    const start = (m.firstHour + h) * HOUR - m.from;
    for (let s = 0; s < HOUR_SLOTS; s++) {
      const v = sums[h * HOUR_SLOTS + s] as number;
      if (v === 0) continue;
      const i = Math.floor((start + s * SLOT_MS) / m.slotMs);
      if (i >= 0 && i < m.count) out[i] = (out[i] as number) + v;
    }
  }
  return out;
}

function handle(m: TrafficWorkerRequest): [TrafficWorkerReply, ArrayBuffer[]] | undefined {
  if (m.type === 'keep') {
    for (let i = 0; i < m.gens.length; i++) blocks.set(m.gens[i] as number, m.bytes.subarray(i * HOUR_SLOTS, (i + 1) * HOUR_SLOTS));
    return undefined;
  }
  if (m.type === 'day') {
    combine(m.gen, m.hours);
    return undefined;
  }
  if (m.type === 'drop') {
    for (const gen of m.gens) blocks.delete(gen);
    return undefined;
  }
  const id = m.id as number;
  if (m.spare) giveSpare(m.spare);
  const series = answerSeries(m, (gen) => blocks.get(gen));
  if (series === undefined) return [{ id, missing: true }, []];
  if (m.render === null) return [{ id, series }, [series.buffer as ArrayBuffer]];
  const body = renderDetail({ kind: m.render, slots: { slotMs: m.slotMs, from: m.from, to: m.to, count: m.count } }, series);
  // A view of the renderer's buffer, handed over (transferred, not copied).
  return [{ id, body }, [body.buffer as ArrayBuffer]];
}

serveBlockWorker<TrafficWorkerRequest>('traffic-block-worker', handle, (m) => m.type === 'answer');
