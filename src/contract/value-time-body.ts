import { JsonBytes, UtcSecondWriter, WordTexts, asciiBytes, writeSmallInt } from './json-bytes.js';
import { formatUtcSecond } from './time.js';
import { renderMinuteSlots } from './minute-slots-body.js';
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
