import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../paths.js';
import { packStat, unpackStat } from './stat-pack.js';
import { INLINE_MAX_BYTES, PageBytes, StatParser } from './stat-parser.js';
import { parseRtmpStat, type StatStream } from './stat-xml.js';

// The parse worker runs the build's script (dist/src/origin/stat-worker.js), as the server does.
const built = join(projectRoot(), 'dist', 'src', 'origin', 'stat-worker.js');

const client = (id: number, publishing: boolean): string =>
  `<client><id>${id}</id><address>203.0.${(id >> 8) & 255}.${id & 255}</address><time>${id * 7}</time>` +
  `<flashver>${publishing ? 'FMLE/3.0 (compatible; Lavf59.27' : 'LNX 9,0,124,2'}</flashver><dropped>0</dropped><avsync>-15</avsync>` +
  `<timestamp>3103</timestamp>${publishing ? '<publishing/>' : ''}<active/></client>\n`;

/**
 * A page in nginx-rtmp's layout (as from Debian's nginx 1.22.1 + libnginx-mod-rtmp, see
 * stat-xml.test.ts) with `streams` streams of `players` players each, plus the odd ones: names with
 * entities and multi-byte characters, an unreadable counter, an idle stream, a second application.
 */
function page(streams: number, players: number): string {
  const parts = ['<?xml version="1.0" encoding="utf-8" ?>\n<rtmp><nginx_version>1.22.1</nginx_version><server><application><name>live</name><live>'];
  let id = 0;
  for (let s = 0; s < streams; s++) {
    const name = s % 97 === 1 ? `caf\u00e9-&amp;-\u{1f3a5}-${s}` : `s${s}`;
    const bytes = s % 89 === 3 ? '9007199254740993' : String(151_601 + s);
    parts.push(`<stream><name>${name}</name><time>${3117 + s}</time><bw_in>${368_000 + s}</bw_in><bytes_in>${bytes}</bytes_in><bw_out>0</bw_out><bytes_out>0</bytes_out>\n`);
    for (let c = 0; c <= players; c++) parts.push(client(id++, c === 0));
    parts.push('<meta><video><width>640</width><height>360</height><frame_rate>25</frame_rate><codec>H264</codec></video>' +
      `<audio><codec>AAC</codec></audio></meta><nclients>${players + 1}</nclients><publishing/><active/></stream>\n`);
  }
  parts.push('<stream><name>idle</name><time>5</time><bw_in>0</bw_in><bytes_in>0</bytes_in><nclients>0</nclients></stream>');
  parts.push('</live></application><application><name>a&amp;b</name><live><stream><name>x</name><time>1</time><bytes_in>7</bytes_in>');
  parts.push(client(id, true), '</stream></live></application></server></rtmp>\n');
  return parts.join('');
}

/** The page's bytes as an HTTP body arrives: chunks of varied sizes (multi-byte characters cut in two). */
function bytesOf(text: string): PageBytes {
  const all = Buffer.from(text, 'utf8');
  const out = new PageBytes();
  for (let i = 0, k = 0; i < all.length; k++) {
    const n = [1, 7, 16_384, 65_536, 3, 100_000][k % 6] as number;
    out.append(all.subarray(i, i + n));
    i += n;
  }
  return out;
}

describe('packStat / unpackStat', () => {
  it('give back the same streams whatever the part size (streams of many clients span parts, idle ones are kept)', () => {
    const streams = parseRtmpStat(page(7, 30));
    expect(streams.some((s) => s.bytesIn === undefined)).toBe(true);
    for (const size of [1, 2, 3, 5, 31, 32, 33, 1000]) {
      const parts = packStat(streams, size);
      const out: StatStream[] = [];
      if (size <= 5) expect(parts.length).toBeGreaterThan(streams.length);
      for (const p of parts) unpackStat(p, out);
      expect(out, `part size ${size}`).toEqual(streams);
    }
    expect(packStat([])).toEqual([]);
  });
});

describe('PageBytes', () => {
  it('keeps the bytes in order across blocks, multi-byte characters cut between chunks included', () => {
    const text = page(100, 180);
    expect(Buffer.byteLength(text)).toBeGreaterThan(2 * 1024 * 1024);
    const bytes = bytesOf(text);
    expect(bytes.length).toBe(Buffer.byteLength(text));
    expect(bytes.text()).toBe(text);
  });
});

describe('StatParser', () => {
  const parser = new StatParser();
  beforeAll(() => {
    if (!existsSync(built)) throw new Error('run `npm run build` before this test');
  });
  afterAll(() => parser.close());

  it('parses a small page on the calling thread without starting a worker', async () => {
    const text = page(2, 3);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(INLINE_MAX_BYTES);
    const parsed = await parser.parse(bytesOf(text));
    expect(parsed.threadId).toBe(threadId);
    expect(parsed.streams).toEqual(parseRtmpStat(text));
    expect(parser.stats).toEqual({ inline: 1, worker: 0 });
  });

  it('parses a big page (~25 MB, 120,000 clients) in its worker thread, the event loop turning meanwhile; the same answer as inline', async () => {
    const text = page(1000, 120);
    expect(Buffer.byteLength(text)).toBeGreaterThan(20_000_000);
    const inline = parseRtmpStat(text);
    // setImmediate callbacks run only when the event loop turns: an inline parse lets none run.
    let turns = 0;
    let pending = true;
    const turn = (): void => {
      turns++;
      if (pending) setImmediate(turn);
    };
    const parsing = parser.parse(bytesOf(text));
    setImmediate(turn);
    const parsed = await parsing.finally(() => { pending = false; });
    expect(parsed.threadId).not.toBe(threadId);
    expect(turns).toBeGreaterThan(10);
    expect(parsed.streams.length).toBe(inline.length);
    expect(JSON.stringify(parsed.streams)).toBe(JSON.stringify(inline));
    expect(parsed.streams.filter((s) => s.bytesIn === undefined).length).toBe(inline.filter((s) => s.bytesIn === undefined).length);
    // The same worker takes the next pages, several at once; a page that is not nginx-rtmp's fails as inline.
    const again = await Promise.all([parser.parse(bytesOf(page(300, 10))), parser.parse(bytesOf(page(10, 900)))]);
    expect(again.map((p) => p.threadId)).toEqual([parsed.threadId, parsed.threadId]);
    expect(again[1]?.streams).toEqual(parseRtmpStat(page(10, 900)));
    await expect(parser.parse(bytesOf('<html>' + 'x'.repeat(INLINE_MAX_BYTES) + '</html>'))).rejects.toThrow('not an nginx-rtmp statistics page');
    expect(parser.stats).toEqual({ inline: 1, worker: 4 });
  });

  it('a worker that dies fails the page it held; the next page starts another', async () => {
    const own = new StatParser();
    const text = page(1000, 20);
    const first = await own.parse(bytesOf(text));
    const held = own.parse(bytesOf(text));
    await (own as unknown as { worker: { terminate: () => Promise<number> } }).worker.terminate();
    await expect(held).rejects.toThrow('the statistics parse worker exited');
    const next = await own.parse(bytesOf(text));
    expect(next.threadId).not.toBe(first.threadId);
    expect(next.streams).toEqual(first.streams);
    await own.close();
  });
});
