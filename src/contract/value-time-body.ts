import { JsonBytes, UtcSecondWriter, asciiBytes } from './json-bytes.js';
import type { SlotRange } from './traffic/slots.js';

const OPEN = asciiBytes('{"data_list":[');
const VALUE = asciiBytes('{"value":');
const TIME = asciiBytes(',"time":"');
const ENTRY_END = asciiBytes('"}');
const CLOSE = asciiBytes(']}');

/**
 * `{"data_list":[{"value":v,"time":"<slot start>"},...]}` rendered straight to bytes, one entry
 * per slot (the shape of ListUsersOfStream and the traffic/bandwidth details): the bytes of
 * JSON.stringify over the same entries, without a string per entry. `value(i)`: slot i's value.
 */
export function renderValueTimes(slots: SlotRange, value: (i: number) => number): Uint8Array {
  const n = slots.count;
  const out = new JsonBytes(32 + n * 48);
  const time = new UtcSecondWriter();
  out.ensure(OPEN.length);
  out.bytes(OPEN);
  for (let i = 0; i < n; i++) {
    out.ensure(64);
    if (i > 0) out.buf[out.pos++] = 44; // ','
    out.bytes(VALUE);
    out.number(value(i));
    out.bytes(TIME);
    time.write(out, slots.from + i * slots.slotMs);
    out.bytes(ENTRY_END);
  }
  out.ensure(CLOSE.length);
  out.bytes(CLOSE);
  return out.finish();
}
