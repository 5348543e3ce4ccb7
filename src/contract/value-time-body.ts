import { JsonBytes, UtcSecondWriter, WordTexts, asciiBytes, writeSmallInt } from './json-bytes.js';
import { formatUtcSecond } from './time.js';
import type { SlotRange } from './traffic/slots.js';

const OPEN = asciiBytes('{"data_list":[');
const VALUE = asciiBytes('{"value":');
const TIME = asciiBytes(',"time":"');
const ENTRY_END = asciiBytes('"}');
const CLOSE = asciiBytes(']}');
const DAY = 86_400_000;
const MINUTE = 60_000;
/** The most bytes one entry takes: ',' + '{"value":' + a number (<= 24) + ',"time":"' + 20 + '"}', and a word of spill. */
const ENTRY_MAX = 1 + 9 + 24 + 9 + 20 + 2 + 4;

/** '{"value":' as words (9 bytes in 3 words: the copy spills 3 bytes that the number overwrites). */
const VALUE_WORDS = new WordTexts([VALUE], 3).words;
let minuteTails: Uint32Array | undefined;

/** 'HH:MM:00Z"}' of every minute of a day, 3 words each (11 bytes: 1 byte of spill). */
function minuteWords(): Uint32Array {
  if (minuteTails) return minuteTails;
  const texts: Uint8Array[] = [];
  for (let m = 0; m < 1440; m++) texts.push(asciiBytes(`${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}:00Z"}`));
  minuteTails = new WordTexts(texts, 3).words;
  return minuteTails;
}

/**
 * At `p` in `out` (room made by the caller): ',' unless `first`, then '{"value":' as words and `v`;
 * returns the position after the value (the general entry loop; renderMinuteSlots writes its own).
 */
function putValue(out: JsonBytes, p: number, first: boolean, v: number): number {
  const b = out.buf;
  const view = out.view;
  if (!first) b[p++] = 44; // ','
  view.setUint32(p, VALUE_WORDS[0] as number, true);
  view.setUint32(p + 4, VALUE_WORDS[1] as number, true);
  view.setUint32(p + 8, VALUE_WORDS[2] as number, true);
  p += 9;
  if (v >= 0 && v <= 0x7fffffff && (v | 0) === v) return writeSmallInt(b, view, p, v);
  out.pos = p;
  out.number(v);
  return out.pos;
}

/**
 * `{"data_list":[{"value":v,"time":"<slot start>"},...]}` rendered straight to bytes, one entry
 * per slot (the shape of ListUsersOfStream and the traffic/bandwidth details): the bytes of
 * JSON.stringify over the same entries, without a string per entry. `values[i]`: slot i's value
 * (missing: 0); an array, not a function per slot, so the hot loop reads it in place whichever
 * answer (users, traffic details) a thread rendered before.
 * The hot loop (10,080 entries for 7 days at 60 s) writes its fixed texts as 32-bit words: the
 * value's key, then ',"time":"YYYY-MM-DDT' (5 words, made once per UTC day) and 'HH:MM:00Z"}'
 * from a table of the day's minutes; a slot not on a whole minute is written byte by byte.
 */
export function renderValueTimes(slots: SlotRange, values: ArrayLike<number>): Uint8Array {
  const n = slots.count;
  if (n > 0 && minuteSlots(slots)) return renderMinuteSlots(slots, values);
  const out = new JsonBytes(32 + n * 48);
  const time = new UtcSecondWriter();
  const tails = minuteWords();
  const head = new Uint32Array(5);
  let headDay = NaN;
  out.ensure(OPEN.length);
  out.bytes(OPEN);
  for (let i = 0; i < n; i++) {
    out.ensure(ENTRY_MAX);
    const view = out.view;
    let p = out.pos;
    p = putValue(out, p, i === 0, values[i] ?? 0);
    const ms = slots.from + i * slots.slotMs;
    const t = Math.floor(ms / 1000) * 1000;
    const day = Math.floor(t / DAY);
    const inDay = t - day * DAY;
    if (day !== headDay && t >= 0 && Number.isSafeInteger(t) && inDay % MINUTE === 0) {
      const date = formatUtcSecond(t);
      // Years past 9999 (longer texts) take the byte-by-byte path below.
      if (date.length === 20) {
        const words = new WordTexts([asciiBytes(`,"time":"${date.slice(0, 11)}`)], 5).words;
        head.set(words);
        headDay = day;
      }
    }
    if (day === headDay && inDay % MINUTE === 0) {
      view.setUint32(p, head[0] as number, true);
      view.setUint32(p + 4, head[1] as number, true);
      view.setUint32(p + 8, head[2] as number, true);
      view.setUint32(p + 12, head[3] as number, true);
      view.setUint32(p + 16, head[4] as number, true);
      const at = (inDay / MINUTE) * 3;
      view.setUint32(p + 20, tails[at] as number, true);
      view.setUint32(p + 24, tails[at + 1] as number, true);
      view.setUint32(p + 28, tails[at + 2] as number, true);
      out.pos = p + 31;
    } else {
      out.pos = p;
      out.bytes(TIME);
      time.write(out, ms);
      out.bytes(ENTRY_END);
    }
  }
  out.ensure(CLOSE.length);
  out.bytes(CLOSE);
  return out.finish();
}

/**
 * Whether every slot starts on a whole minute at or after 1970 and before year 10000 (each
 * time text is then 20 bytes and every entry takes renderMinuteSlots' word path).
 */
function minuteSlots(slots: SlotRange): boolean {
  const { from, slotMs, count } = slots;
  const last = from + (count - 1) * slotMs;
  return from >= 0 && slotMs > 0 && from % MINUTE === 0 && slotMs % MINUTE === 0 && Number.isSafeInteger(last) && formatUtcSecond(last).length === 20;
}

/** '{"value":' after an entry's '"}': the next entry's start, written with the entry's minute. */
const NEXT = ',{"value":';
let entryTails: Uint32Array | undefined;

/**
 * 'HH:MM:00Z"},{"value":' of every minute of a day, 6 words each (21 bytes: 3 bytes of spill): an
 * entry's time of day, its end and the next entry's key in one copy.
 */
function entryTailWords(): Uint32Array {
  if (entryTails) return entryTails;
  const texts: Uint8Array[] = [];
  for (let m = 0; m < 1440; m++) texts.push(asciiBytes(`${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}:00Z"}${NEXT}`));
  entryTails = new WordTexts(texts, 6).words;
  return entryTails;
}

let smallDigits: { words: Uint32Array; lengths: Uint8Array; padded: Uint32Array } | undefined;

/**
 * 0..9,999 in decimal as little-endian words (`words`, `lengths` bytes of each) and zero-padded to
 * 4 digits (`padded`): a number below 10^8 is one or two word stores, no division per digit.
 */
function digitWords(): { words: Uint32Array; lengths: Uint8Array; padded: Uint32Array } {
  if (smallDigits) return smallDigits;
  const words = new Uint32Array(10_000);
  const lengths = new Uint8Array(10_000);
  const padded = new Uint32Array(10_000);
  for (let v = 0; v < 10_000; v++) {
    const text = String(v);
    const pad = text.padStart(4, '0');
    lengths[v] = text.length;
    for (let j = 0; j < 4; j++) {
      if (j < text.length) words[v] = ((words[v] as number) | (text.charCodeAt(j) << (8 * j))) >>> 0;
      padded[v] = ((padded[v] as number) | (pad.charCodeAt(j) << (8 * j))) >>> 0;
    }
  }
  smallDigits = { words, lengths, padded };
  return smallDigits;
}

/**
 * renderValueTimes for minuteSlots: the same bytes, written a UTC day at a time. A day's date
 * words are made once and room for the whole day is made once; per entry, the value (below 10^8:
 * one or two words from a table of 0..9,999), the date's 5 words and 6 words from a table of the
 * day's minutes holding the time of day, the entry's end and the next entry's '{"value":' (the
 * last entry's is overwritten by the closing ']}'). No per-digit division, no branch per entry
 * beyond the value's size.
 */
function renderMinuteSlots(slots: SlotRange, values: ArrayLike<number>): Uint8Array {
  const { from, slotMs, count: n } = slots;
  const tails = entryTailWords();
  const { words: dWords, lengths: dLengths, padded: dPadded } = digitWords();
  const stepWords = (slotMs / MINUTE) * 6;
  // A day of entries at the most bytes each beyond the usual size: growing is rare (long numbers).
  const out = new JsonBytes(32 + n * 48 + Math.min(n, 1440) * ENTRY_MAX);
  out.bytes(OPEN);
  out.bytes(VALUE);
  let i = 0;
  while (i < n) {
    const start = from + i * slotMs;
    const day = Math.floor(start / DAY);
    // The first slot of the next day (slots of a day or more: one per day).
    const dayEnd = Math.min(n, Math.ceil(((day + 1) * DAY - from) / slotMs));
    const head = new WordTexts([asciiBytes(`,"time":"${formatUtcSecond(day * DAY).slice(0, 11)}`)], 5).words;
    const h0 = head[0] as number;
    const h1 = head[1] as number;
    const h2 = head[2] as number;
    const h3 = head[3] as number;
    const h4 = head[4] as number;
    out.ensure((dayEnd - i) * ENTRY_MAX + CLOSE.length);
    const view = out.view;
    let p = out.pos;
    let at = ((start - day * DAY) / MINUTE) * 6;
    for (; i < dayEnd; i++, at += stepWords) {
      const v = values[i] ?? 0;
      if (v >= 0 && v < 10_000 && (v | 0) === v) {
        view.setUint32(p, dWords[v] as number, true);
        p += dLengths[v] as number;
      } else if (v >= 10_000 && v < 100_000_000 && (v | 0) === v) {
        const hi = (v / 10_000) | 0;
        view.setUint32(p, dWords[hi] as number, true);
        p += dLengths[hi] as number;
        view.setUint32(p, dPadded[v - hi * 10_000] as number, true);
        p += 4;
      } else {
        out.pos = p;
        out.number(v);
        p = out.pos;
      }
      view.setUint32(p, h0, true);
      view.setUint32(p + 4, h1, true);
      view.setUint32(p + 8, h2, true);
      view.setUint32(p + 12, h3, true);
      view.setUint32(p + 16, h4, true);
      view.setUint32(p + 20, tails[at] as number, true);
      view.setUint32(p + 24, tails[at + 1] as number, true);
      view.setUint32(p + 28, tails[at + 2] as number, true);
      view.setUint32(p + 32, tails[at + 3] as number, true);
      view.setUint32(p + 36, tails[at + 4] as number, true);
      view.setUint32(p + 40, tails[at + 5] as number, true);
      p += 41;
    }
    out.pos = p;
  }
  // The last entry's '"}' stands; its ',{"value":' gives way to the closing ']}'.
  out.pos -= NEXT.length;
  out.bytes(CLOSE);
  return out.finish();
}
