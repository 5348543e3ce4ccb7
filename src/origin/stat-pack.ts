import type { StatClient, StatStream } from './stat-xml.js';

/**
 * A parsed statistics page in the compact form the parse worker (stat-worker.ts) sends back: parts
 * of at most PART_CLIENTS clients (and streams), each a list of strings and one Float64Array of
 * numbers, read in order. A part is one message: the main thread unpacks a few thousand clients per
 * event-loop task instead of one structured clone of the whole page (300,000 client objects take
 * ~0.7 s to deserialize), and every string it keeps is its own, not a slice of one big text.
 *
 * Numbers of a stream record: kind (0: a new stream, 1: more clients of the previous stream), the
 * number of clients that follow, then for a new stream: timeMs, bytesIn (-1: unreadable), bwIn,
 * width, height, frameRate. Its strings: app, name, videoCodec, audioCodec (none for kind 1).
 * Each client: timeMs, publishing (0/1); strings id, address, flashver.
 */
export interface StatPart {
  strings: string[];
  nums: Float64Array;
}

/** Clients (and streams) per part: ~1 ms to unpack on a quiet core. */
export const PART_CLIENTS = 2048;

const NEW = 0;
const MORE = 1;

/** Cuts the streams into parts of at most `perPart` units (a stream record and a client are one each). */
export function packStat(streams: StatStream[], perPart = PART_CLIENTS): StatPart[] {
  const size = Math.max(2, Math.floor(perPart));
  const parts: StatPart[] = [];
  let strings: string[] = [];
  let nums: number[] = [];
  let units = 0;
  const flush = (): void => {
    if (units === 0) return;
    parts.push({ strings, nums: Float64Array.from(nums) });
    strings = [];
    nums = [];
    units = 0;
  };
  for (const st of streams) {
    let i = 0;
    let first = true;
    do {
      if (units >= size) flush();
      const n = Math.min(st.clients.length - i, Math.max(0, size - units - 1));
      if (first) {
        nums.push(NEW, n, st.timeMs, st.bytesIn ?? -1, st.bwIn, st.width, st.height, st.frameRate);
        strings.push(st.app, st.name, st.videoCodec, st.audioCodec);
        first = false;
      } else {
        nums.push(MORE, n);
      }
      units++;
      for (const c of st.clients.slice(i, i + n)) {
        nums.push(c.timeMs, c.publishing ? 1 : 0);
        strings.push(c.id, c.address, c.flashver);
      }
      units += n;
      i += n;
    } while (i < st.clients.length);
  }
  flush();
  return parts;
}

/** Appends the streams of one part to `out` (a part's first record may continue out's last stream). */
export function unpackStat(part: StatPart, out: StatStream[]): void {
  const { strings, nums } = part;
  let n = 0;
  let s = 0;
  const str = (): string => strings[s++] ?? '';
  while (n < nums.length) {
    const kind = nums[n++] as number;
    const count = nums[n++] as number;
    let stream: StatStream | undefined;
    if (kind === MORE) {
      stream = out[out.length - 1];
      if (!stream) throw new Error('a statistics part continues no stream');
    } else {
      const timeMs = nums[n++] as number;
      const bytesIn = nums[n++] as number;
      const bwIn = nums[n++] as number;
      const width = nums[n++] as number;
      const height = nums[n++] as number;
      const frameRate = nums[n++] as number;
      stream = {
        app: str(), name: str(), timeMs, bytesIn: bytesIn < 0 ? undefined : bytesIn, bwIn, videoCodec: str(), audioCodec: str(),
        width, height, frameRate, clients: [],
      };
      out.push(stream);
    }
    for (let k = 0; k < count; k++) {
      const timeMs = nums[n++] as number;
      const publishing = nums[n++] === 1;
      const client: StatClient = { id: str(), address: str(), timeMs, flashver: str(), publishing };
      stream.clients.push(client);
    }
  }
}
