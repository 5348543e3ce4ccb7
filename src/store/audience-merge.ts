import type { AudienceCells, ProjectAudience } from './audience.js';

/**
 * Audience entries as fewer entries: each run of consecutive entries of one project becomes one, its
 * tuples deduplicated (first appearance first) and its columns concatenated in order. The store writes
 * it exactly as the run: cells are added, set entries (viewers, users) counted once, and names get
 * their ids in the same order of first appearance.
 */
export function mergeAudience(entries: readonly ProjectAudience[]): ProjectAudience[] {
  const out: ProjectAudience[] = [];
  for (let i = 0; i < entries.length;) {
    let j = i + 1;
    const project = (entries[i] as ProjectAudience).project;
    while (j < entries.length && (entries[j] as ProjectAudience).project === project) j++;
    out.push(j - i === 1 ? entries[i] as ProjectAudience : { project, cells: mergeCells(entries.slice(i, j).map((e) => e.cells)) });
    i = j;
  }
  return out;
}

function mergeCells(all: readonly AudienceCells[]): AudienceCells {
  const domains: string[] = [];
  const apps: string[] = [];
  const streams: string[] = [];
  const index = new Map<string, number>();
  let cells = 0;
  let hls = 0;
  let users = 0;
  for (const c of all) {
    cells += c.tuple.length;
    hls += c.hlsTuple.length;
    users += c.userTuple.length;
  }
  const out: AudienceCells = {
    domains, apps, streams,
    tuple: new Int32Array(cells), minute: new Float64Array(cells), protocol: new Uint8Array(cells), geo: new Uint8Array(cells),
    sessions: new Float64Array(cells), playMs: new Float64Array(cells), bytes: new Float64Array(cells), requests: new Float64Array(cells),
    hlsTuple: new Int32Array(hls), hlsMinute: new Float64Array(hls), hlsGeo: new Uint8Array(hls), hlsIp: [],
    userTuple: new Int32Array(users), userDay: new Float64Array(users), userIp: [],
  };
  // FLV/RTMP sessions as opens and closes (src/store/audience-flv.ts): kept whenever any entry has them.
  const opens = all.some((c) => c.opens !== undefined) ? new Float64Array(cells) : undefined;
  const closes = all.some((c) => c.closes !== undefined) ? new Float64Array(cells) : undefined;
  if (opens) out.opens = opens;
  if (closes) out.closes = closes;
  const hlsV4 = all.some((c) => c.hlsV4 !== undefined) ? new Float64Array(hls).fill(-1) : undefined;
  const userV4 = all.some((c) => c.userV4 !== undefined) ? new Float64Array(users).fill(-1) : undefined;
  let n = 0;
  let h = 0;
  let u = 0;
  for (const c of all) {
    const map = new Int32Array(c.domains.length);
    for (let k = 0; k < c.domains.length; k++) {
      const key = JSON.stringify([c.domains[k], c.apps[k], c.streams[k]]);
      let at = index.get(key);
      if (at === undefined) {
        at = domains.length;
        index.set(key, at);
        domains.push(c.domains[k] as string);
        apps.push(c.apps[k] as string);
        streams.push(c.streams[k] as string);
      }
      map[k] = at;
    }
    // A tuple index outside its entry stays outside (-1), so the store refuses it as it would have.
    const remap = (k: number): number => (k >= 0 && k < map.length ? map[k] as number : -1);
    for (let i = 0; i < c.tuple.length; i++, n++) {
      out.tuple[n] = remap(c.tuple[i] as number);
      out.minute[n] = c.minute[i] as number;
      out.protocol[n] = c.protocol[i] as number;
      out.geo[n] = c.geo[i] as number;
      out.sessions[n] = c.sessions[i] as number;
      if (opens) opens[n] = c.opens?.[i] ?? 0;
      if (closes) closes[n] = c.closes?.[i] ?? 0;
      out.playMs[n] = c.playMs[i] as number;
      out.bytes[n] = c.bytes[i] as number;
      out.requests[n] = c.requests[i] as number;
    }
    for (let i = 0; i < c.hlsTuple.length; i++, h++) {
      out.hlsTuple[h] = remap(c.hlsTuple[i] as number);
      out.hlsMinute[h] = c.hlsMinute[i] as number;
      out.hlsGeo[h] = c.hlsGeo[i] as number;
      out.hlsIp.push(c.hlsIp[i] as string);
      if (hlsV4 && c.hlsV4) hlsV4[h] = c.hlsV4[i] ?? -1;
    }
    for (let i = 0; i < c.userTuple.length; i++, u++) {
      out.userTuple[u] = remap(c.userTuple[i] as number);
      out.userDay[u] = c.userDay[i] as number;
      out.userIp.push(c.userIp[i] as string);
      if (userV4 && c.userV4) userV4[u] = c.userV4[i] ?? -1;
    }
  }
  if (hlsV4) out.hlsV4 = hlsV4;
  if (userV4) out.userV4 = userV4;
  return out;
}
