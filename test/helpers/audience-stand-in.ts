import type { AudienceReads } from '../../src/api/routes/audience.js';
import type { PortraitTotals } from '../../src/contract/audience/portrait.js';
import type { AudienceProtocol, PlayInfoRow } from '../../src/store/audience.js';
import type { Isp, Region } from '../../src/contract/values.js';

/** One (domain, app, stream, protocol, region, isp) of one minute: online viewers and bytes. */
export interface AudienceMinute {
  project?: string;
  domain: string;
  app?: string;
  stream: string;
  protocol: AudienceProtocol;
  region?: Region;
  isp?: Isp;
  /** Minute start, epoch ms. */
  minute: number;
  online: number;
  bytes?: number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * STAND-IN, test code only: an in-memory reader of audience minutes for the dashboard's Viewers
 * view test (the view is tested, not storage; the audience cube itself is tested against hand-computed
 * answers in its own suites). It adds cells as audience-api.md says cells add up: per minute, summed
 * over the filter; at 300 s, the largest of the five minutes.
 */
export class InMemoryAudienceStandIn implements AudienceReads {
  private readonly cells: Array<Required<AudienceMinute>> = [];

  add(...cells: AudienceMinute[]): this {
    for (const c of cells) this.cells.push({ project: 'p1', app: 'live', region: 'OT', isp: 'OTHER', bytes: 0, ...c });
    return this;
  }

  async usersSeries(f: Parameters<AudienceReads['usersSeries']>[0]): Promise<Float64Array> {
    const perMinute = new Float64Array((f.to - f.from) / MINUTE);
    for (const c of this.cells) {
      if (c.project !== f.project || c.domain !== f.domain || c.minute < f.from || c.minute >= f.to) continue;
      if ((f.app !== undefined && c.app !== f.app) || (f.stream !== undefined && c.stream !== f.stream)) continue;
      if ((f.protocol !== undefined && c.protocol !== f.protocol) || (f.regions.length > 0 && !f.regions.includes(c.region))) continue;
      if (f.isps.length > 0 && !f.isps.includes(c.isp)) continue;
      const i = (c.minute - f.from) / MINUTE;
      perMinute[i] = (perMinute[i] ?? 0) + c.online;
    }
    const per = f.slotMs / MINUTE;
    const out = new Float64Array((f.to - f.from) / f.slotMs);
    for (let i = 0; i < out.length; i++) out[i] = Math.max(0, ...perMinute.subarray(i * per, (i + 1) * per));
    return out;
  }

  async playInfo(f: Parameters<AudienceReads['playInfo']>[0]): Promise<PlayInfoRow[]> {
    const rows = new Map<string, PlayInfoRow>();
    for (const c of this.cells) {
      if (c.project !== f.project || c.minute !== f.minute || (f.domains.length > 0 && !f.domains.includes(c.domain))) continue;
      const key = [c.domain, c.app, c.stream, c.protocol].join('\u0000');
      const r = rows.get(key) ?? { domain: c.domain, app: c.app, stream: c.stream, protocol: c.protocol, bytes: 0, online: 0 };
      r.bytes += c.bytes;
      r.online += c.online;
      rows.set(key, r);
    }
    return [...rows.values()];
  }

  async streamPortrait(f: Parameters<AudienceReads['streamPortrait']>[0]): Promise<PortraitTotals> {
    const mine = this.cells.filter((c) => c.project === f.project && c.domain === f.domain && (f.stream === undefined || c.stream === f.stream) &&
      c.minute >= f.day && c.minute < f.day + DAY);
    const perMinute = new Map<number, number>();
    for (const c of mine) perMinute.set(c.minute, (perMinute.get(c.minute) ?? 0) + c.online);
    const online = mine.reduce((s, c) => s + c.online, 0);
    return {
      flow: mine.reduce((s, c) => s + c.bytes, 0), requests: mine.length, playSeconds: online * 60, users: Math.max(0, ...perMinute.values()),
      peakUsers: Math.max(0, ...perMinute.values()), peakBytes5m: 0, pushSeconds: 0,
    };
  }
}
