import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StatPoller, type StatSource } from './poller.js';
import { StatParser } from './stat-parser.js';
import { parseRtmpStat } from './stat-xml.js';
import type { OriginTracker, Snapshot } from './tracker.js';

const PAGE = `<?xml version="1.0" encoding="utf-8" ?><rtmp><server><application><name>live</name><live>
<stream><name>s1</name><time>5000</time><bw_in>0</bw_in><bytes_in>1000</bytes_in>
<client><id>7</id><address>10.1.1.1</address><time>5000</time><flashver>FMLE/3.0</flashver><publishing/></client>
<meta><video><width>640</width><height>360</height><frame_rate>25</frame_rate><codec>H264</codec></video><audio><codec>AAC</codec></audio></meta>
</stream></live></application></server></rtmp>`;

const servers: Server[] = [];
const timers: NodeJS.Timeout[] = [];
afterEach(async () => {
  for (const t of timers.splice(0)) clearTimeout(t);
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A real statistics page over HTTP that answers only after `delayMs` (a busy origin, or a busy livestats reading it late). */
async function slowPage(delayMs: number, body = PAGE): Promise<string> {
  const server = createServer((_req, res) => {
    timers.push(setTimeout(() => res.end(body), delayMs));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/stat`;
}

describe('StatPoller', () => {
  it('a page answered later than one poll interval is still read (the deadline is not the interval)', async () => {
    const url = await slowPage(1500);
    const snapshots: Snapshot[] = [];
    const tracker = { snapshot: async (s: Snapshot) => { snapshots.push(s); } } as unknown as OriginTracker;
    const source: StatSource = { url, project: 'p', origin: 'o1', domain: 'push.example.com' };
    const errors: string[] = [];
    // The shortest interval the settings allow, and an origin that takes three times that to answer.
    const poller = new StatPoller({ sources: [source], intervalMs: 500, tracker, onError: (_s, e) => errors.push(e.message) });
    await poller.pollOnce(source);
    expect(errors).toEqual([]);
    expect(poller.polls).toEqual({ ok: 1, failed: 0 });
    expect(snapshots[0]?.streams[0]).toMatchObject({ name: 's1', videoCodec: 'H264', bytesIn: 1000 });
  });

  it('a page that never answers fails the poll at the deadline and changes nothing', async () => {
    const url = await slowPage(60_000);
    const snapshots: Snapshot[] = [];
    const tracker = { snapshot: async (s: Snapshot) => { snapshots.push(s); } } as unknown as OriginTracker;
    const source: StatSource = { url, project: 'p', origin: 'o1', domain: 'push.example.com' };
    const poller = new StatPoller({ sources: [source], intervalMs: 500, timeoutMs: 300, tracker });
    await expect(poller.pollOnce(source)).rejects.toThrow(/abort|timeout/i);
    expect(poller.polls).toEqual({ ok: 0, failed: 1 });
    expect(snapshots).toEqual([]);
  });

  it('a big page (~8 MB, 40,000 players) is parsed in the parse worker (needs the build), giving the same snapshot as an inline parse', async () => {
    const player = (i: number): string => `<client><id>${1000 + i}</id><address>192.0.2.${i % 250}</address><time>${i}</time><flashver>LNX 9,0,124,2</flashver><active/></client>`;
    const big = PAGE.replace('<meta>', Array.from({ length: 40_000 }, (_, i) => player(i)).join('\n') + '<meta>');
    expect(big.length).toBeGreaterThan(4_000_000);
    const url = await slowPage(0, big);
    const snapshots: Snapshot[] = [];
    const tracker = { snapshot: async (s: Snapshot) => { snapshots.push(s); } } as unknown as OriginTracker;
    const source: StatSource = { url, project: 'p', origin: 'o1', domain: 'push.example.com' };
    const parser = new StatParser();
    const poller = new StatPoller({ sources: [source], intervalMs: 500, tracker, parser });
    await poller.pollOnce(source);
    await parser.close();
    expect(parser.stats).toEqual({ inline: 0, worker: 1 });
    expect(snapshots[0]?.streams[0]?.clients).toHaveLength(40_001);
    expect(snapshots[0]?.streams).toEqual(parseRtmpStat(big));
  });

  it('a page\'s time is when it was read, not when a slow parse (a queue in the parse worker) ended', async () => {
    const url = await slowPage(0);
    const snapshots: Snapshot[] = [];
    const tracker = { snapshot: async (s: Snapshot) => { snapshots.push(s); } } as unknown as OriginTracker;
    const source: StatSource = { url, project: 'p', origin: 'o1', domain: 'push.example.com' };
    let clock = 1000;
    const parser = new StatParser();
    const parse = parser.parse.bind(parser);
    // The parse takes 5 s of the poller's clock.
    parser.parse = async (page) => {
      const parsed = await parse(page);
      clock += 5000;
      return parsed;
    };
    const poller = new StatPoller({ sources: [source], intervalMs: 500, tracker, parser, now: () => clock });
    await poller.pollOnce(source);
    expect(snapshots[0]).toMatchObject({ requestedAt: 1000, at: 1000 });
  });
});
