// A users answer (ListUsersOfStream) put together on the main thread from entries rendered before: the closed days'
// entries kept with their day records (audience-blocks.ts), the other slots rendered now. The same bytes as
// renderUsers over the whole series (each entry's bytes are its value's and its slot's only, the entries joined by ',').
import { renderUsers } from '../../contract/audience/users-body.js';
import { asciiBytes, giveSpare } from '../../contract/json-bytes.js';

const OPEN = asciiBytes('{"data_list":[');
const CLOSE = asciiBytes(']}');
const COMMA = 44;

/** The slots of a users answer (the contract's SlotRange without the count: the series' length is it). */
export interface UsersSlots {
  slotMs: number;
  from: number;
  to: number;
}

/** A run of an answer's slots whose entries are rendered already: slots [at, at + count), `bytes` their entries joined by ','. */
export interface UsersPart {
  at: number;
  count: number;
  bytes: Uint8Array;
}

/**
 * The entries of `values` over slots from `from` every `slotMs` (`{"value":v,"time":"..."}` joined by ','), in memory of
 * their own: renderUsers' body without its '{"data_list":[' and ']}' (its buffer given back for the next rendering here).
 */
export function usersEntries(from: number, slotMs: number, values: Float64Array): Uint8Array {
  const body = renderUsers({ slots: { slotMs, from, to: from + values.length * slotMs, count: values.length } }, values);
  const entries = body.slice(OPEN.length, body.length - CLOSE.length);
  giveSpare(body.buffer as ArrayBuffer);
  return entries;
}

/** Slots of `values` that `parts` leave to render (every slot when the parts are not in order, apart and within the series). */
export function slotsLeft(count: number, parts: readonly UsersPart[]): number {
  let j = 0;
  let left = 0;
  for (const p of parts) {
    if (p.at < j || p.count <= 0 || p.at + p.count > count) return count;
    left += p.at - j;
    j = p.at + p.count;
  }
  return left + count - j;
}

/**
 * The body of `values` (slot i's viewers) over `slots`, the runs of `parts` copied from their bytes and the slots between
 * them rendered here, into memory from `take` (an ArrayBuffer of at least the bytes asked); renderUsers' bytes. Parts not in
 * order, overlapping or beyond the series: the whole series rendered (renderUsers).
 */
export function assembleUsers(slots: UsersSlots, values: Float64Array, parts: readonly UsersPart[], take: (bytes: number) => ArrayBuffer): Uint8Array {
  const n = values.length;
  if (slotsLeft(n, parts) === n && parts.length > 0) return renderUsers({ slots: { ...slots, count: n } }, values);
  const pieces: Uint8Array[] = [];
  // The slots between parts rendered into memory given back once copied (json-bytes.ts giveSpare: the next answer's are
  // rendered there), not into a copy of their own per answer (7 d at 60 s: ~65 KB per answer, which brought GCs).
  const rendered: ArrayBuffer[] = [];
  let j = 0;
  const gap = (to: number): void => {
    if (to <= j) return;
    const from = slots.from + j * slots.slotMs;
    const body = renderUsers({ slots: { slotMs: slots.slotMs, from, to: from + (to - j) * slots.slotMs, count: to - j } }, values.subarray(j, to));
    pieces.push(body.subarray(OPEN.length, body.length - CLOSE.length));
    rendered.push(body.buffer as ArrayBuffer);
  };
  for (const p of parts) {
    gap(p.at);
    pieces.push(p.bytes);
    j = p.at + p.count;
  }
  gap(n);
  let total = OPEN.length + CLOSE.length + Math.max(0, pieces.length - 1);
  for (const piece of pieces) total += piece.length;
  const out = new Uint8Array(take(total), 0, total);
  out.set(OPEN, 0);
  let at = OPEN.length;
  pieces.forEach((piece, i) => {
    if (i > 0) out[at++] = COMMA;
    out.set(piece, at);
    at += piece.length;
  });
  out.set(CLOSE, at);
  for (const b of rendered) giveSpare(b);
  return out;
}
