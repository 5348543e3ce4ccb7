import { JsonBytes, WordTexts, asciiBytes } from './json-bytes.js';
import { formatUtcSecond } from './time.js';
import type { SlotRange } from './traffic/slots.js';

const OPEN = asciiBytes('{"data_list":[{"value":');
const CLOSE = asciiBytes(']}');
const DAY = 86_400_000;
const MINUTE = 60_000;
const DAY_MINUTES = 1440;
/** The next entry's start, written at the end of each entry (the last one's gives way to CLOSE). */
const NEXT = ',{"value":';
/** The most bytes one entry takes: a number (<= 24) + ',"time":"' + 20 + '"}' + NEXT, and 3 bytes of spill. */
const ENTRY_MAX = 24 + 9 + 20 + 2 + NEXT.length + 3;
/** An entry's bytes besides its value: ',"time":"YYYY-MM-DDTHH:MM:00Z"},{"value":'. */
const ENTRY_TEXT = 41;
/** Where an entry's date starts after its value: ',"time":"'. */
const DATE_AT = 9;
/** Runs of values of one length shorter than this are written entry by entry (a copied run has a fixed cost). */
const MIN_RUN = 16;
/** ',"ti' as a word: restores the bytes after a value of 1 to 3 digits that its word store overwrote. */
const TIME_WORD = new WordTexts([asciiBytes(',"ti')], 1).words[0] as number;

interface DigitTables {
  /** 0..9,999 in decimal as little-endian words (`lengths[v]` bytes of each). */
  words: Uint32Array;
  lengths: Uint8Array;
  /** 0..9,999 zero-padded to 4 digits. */
  padded: Uint32Array;
}
let digits: DigitTables | undefined;

/** The digit tables (made once): a whole number below 10^8 is one or two word stores, no division per digit. */
function digitTables(): DigitTables {
  if (digits) return digits;
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
  digits = { words, lengths, padded };
  return digits;
}

let entryTails: Uint32Array | undefined;

/** 'HH:MM:00Z"},{"value":' of every minute of a day, 6 words each (21 bytes: 3 bytes of spill). */
function entryTailWords(): Uint32Array {
  if (entryTails) return entryTails;
  const texts: Uint8Array[] = [];
  for (let m = 0; m < DAY_MINUTES; m++) texts.push(asciiBytes(`${hhmm(m)}:00Z"}${NEXT}`));
  entryTails = new WordTexts(texts, 6).words;
  return entryTails;
}

const hhmm = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/**
 * Day templates: for values of `length` digits, slots every `step` minutes from minute `phase` of a
 * day, every entry of the day ('0' x length + ',"time":"0000-00-00T' + 'HH:MM:00Z"}' + NEXT; entry e
 * at e x (length + ENTRY_TEXT)). Formatting tables, made from the slots' shape only (no answer's
 * data), a few kept per process: a run of values of one length copies its entries in one go and
 * then writes only each entry's value and date.
 */
const templates = new Map<string, Uint8Array>();
const MAX_TEMPLATES = 16;

function dayTemplate(length: number, step: number, phase: number): Uint8Array {
  const key = `${length},${step},${phase}`;
  let t = templates.get(key);
  if (t !== undefined) return t;
  const zeros = '0'.repeat(length);
  let text = '';
  for (let m = phase; m < DAY_MINUTES; m += step) text += `${zeros},"time":"0000-00-00T${hhmm(m)}:00Z"}${NEXT}`;
  t = asciiBytes(text);
  if (templates.size >= MAX_TEMPLATES) templates.clear();
  templates.set(key, t);
  return t;
}

/** Digits of v when the tables write it (a whole number 0 <= v < 10^8), else 0. */
function tableLength(v: number, lengths: Uint8Array): number {
  if (!(v >= 0 && v < 100_000_000) || (v | 0) !== v) return 0;
  return v < 10_000 ? (lengths[v] as number) : 4 + (lengths[(v / 10_000) | 0] as number);
}

/**
 * renderValueTimes for slots on whole minutes from 1970 to 9999 (each time text 20 bytes): the same
 * bytes, written a UTC day at a time (room for the day made once, its date's words made once). A run
 * of MIN_RUN or more values of one length (a busy domain's viewers: a day of 4-digit numbers) is
 * copied from the day template in one go, then each entry gets its value (one or two word stores
 * from a table of 0..9,999) and its date (3 stores); other values are written entry by entry: the
 * value, the date's 5 words and 6 words of the minute's tail from a table of the day's minutes.
 * Every entry ends with the next entry's '{"value":'; the last one's gives way to the closing ']}'.
 */
export function renderMinuteSlots(slots: SlotRange, values: ArrayLike<number>): Uint8Array {
  const { from, slotMs, count: n } = slots;
  const tails = entryTailWords();
  const { words: dWords, lengths: dLengths, padded: dPadded } = digitTables();
  const step = slotMs / MINUTE;
  const stepWords = step * 6;
  // A day of entries at the most bytes each beyond the usual size: growing is rare (long numbers).
  const out = new JsonBytes(32 + n * 48 + Math.min(n, DAY_MINUTES) * ENTRY_MAX);
  out.bytes(OPEN);
  // This answer's templates by length, for the phase they were made for (days of one phase share them).
  const made: Array<Uint8Array | undefined> = [];
  let madePhase = -1;
  let i = 0;
  while (i < n) {
    const start = from + i * slotMs;
    const day = Math.floor(start / DAY);
    // The first slot of the next day (slots of a day or more: one per day).
    const dayEnd = Math.min(n, Math.ceil(((day + 1) * DAY - from) / slotMs));
    const date = formatUtcSecond(day * DAY).slice(0, 11);
    const head = new WordTexts([asciiBytes(`,"time":"${date}`)], 5).words;
    const h0 = head[0] as number;
    const h1 = head[1] as number;
    const h2 = head[2] as number;
    const h3 = head[3] as number;
    const h4 = head[4] as number;
    // 'YYYY', '-MM-' and 'DD' for the runs copied from a template.
    const dw = new WordTexts([asciiBytes(date.slice(0, 8)), asciiBytes(date.slice(8, 10))], 2).words;
    const d0 = dw[0] as number;
    const d1 = dw[1] as number;
    const d2 = dw[2] as number;
    const minute0 = (start - day * DAY) / MINUTE;
    const phase = minute0 % step;
    if (phase !== madePhase) {
      made.length = 0;
      madePhase = phase;
    }
    out.ensure((dayEnd - i) * ENTRY_MAX + CLOSE.length);
    const buf = out.buf;
    const view = out.view;
    let p = out.pos;
    // The day's first slot is entry (minute0 - phase) / step of its templates.
    const first = i - (minute0 - phase) / step;
    while (i < dayEnd) {
      const length = tableLength(values[i] ?? 0, dLengths);
      let r = i + 1;
      if (length > 0) while (r < dayEnd && tableLength(values[r] ?? 0, dLengths) === length) r++;
      if (length > 0 && r - i >= MIN_RUN) {
        // A run of one length: its entries copied from the template, then each one's value and date.
        const stride = length + ENTRY_TEXT;
        const e = i - first;
        const t = made[length] ?? (made[length] = dayTemplate(length, step, phase));
        buf.set(t.subarray(e * stride, (e + r - i) * stride), p);
        for (; i < r; i++, p += stride) {
          const v = values[i] ?? 0;
          if (length <= 4) {
            view.setUint32(p, dWords[v] as number, true);
            if (length < 4) view.setUint32(p + length, TIME_WORD, true);
          } else {
            const hi = (v / 10_000) | 0;
            view.setUint32(p, dWords[hi] as number, true);
            view.setUint32(p + length - 4, dPadded[v - hi * 10_000] as number, true);
          }
          const q = p + length + DATE_AT;
          view.setUint32(q, d0, true);
          view.setUint32(q + 4, d1, true);
          view.setUint16(q + 8, d2, true);
        }
        continue;
      }
      for (let at = (phase + (i - first) * step) * 6; i < r; i++, at += stepWords) {
        const v = values[i] ?? 0;
        if (length > 0 && length <= 4) {
          view.setUint32(p, dWords[v] as number, true);
          p += length;
        } else if (length > 4) {
          const hi = (v / 10_000) | 0;
          view.setUint32(p, dWords[hi] as number, true);
          view.setUint32(p + length - 4, dPadded[v - hi * 10_000] as number, true);
          p += length;
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
        p += ENTRY_TEXT;
      }
    }
    out.pos = p;
  }
  out.pos -= NEXT.length;
  out.bytes(CLOSE);
  return out.finish();
}
