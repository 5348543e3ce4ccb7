import type { DropReason } from './formats/types.js';
import { PACKED_CODES, PACKED_GEOS, unpackKey, type PackedCells } from '../store/packed.js';
import type { NameSpace, StoredNames, Store } from '../store/types.js';

/** Per-project bounds on distinct names (src/config.ts: --max-domains, --max-streams, --max-carousel-tasks). */
export interface NameCaps {
  maxDomains: number;
  maxStreams: number;
  maxCarouselTasks: number;
}

export const DEFAULT_NAME_CAPS: NameCaps = { maxDomains: 10_000, maxStreams: 200_000, maxCarouselTasks: 1000 };

/**
 * What a line processor asks before it counts a line that names a domain or stream (once per run
 * of lines of one domain, and per stream new to it since its last drain: a set lookup, not a store
 * read). Answers undefined (count it) or the reason the line is dropped.
 */
export interface NameGate {
  domain(domain: string): DropReason | undefined;
  stream(domain: string, app: string, stream: string): DropReason | undefined;
}

/**
 * A name gate as plain data, for parse worker threads (see snapshotGate). Workers check streams
 * only, against one budget of new streams they share (`left[0]`, decremented atomically); domains
 * are checked on the main thread when the workers' cells arrive (dropDomains), exactly.
 */
export interface NameGateSnapshot {
  streams: string[];
  /** Int32Array over a SharedArrayBuffer: [new streams left]. */
  left: Int32Array;
  /** The reason for a new stream once the budget is used up. */
  streamReason: DropReason;
}

const streamKey = (domain: string, app: string, stream: string): string => `${domain}\u0000${app}\u0000${stream}`;

/** A project's names: the stored ones plus those admitted since, against the caps and the shared id space. */
export class ProjectNames implements NameGate {
  domains = new Set<string>();
  streams = new Set<string>();
  tasks = new Set<string>();

  constructor(readonly project: string, private readonly limits: NameLimits) {}

  fill(stored: StoredNames): void {
    this.domains = new Set(stored.domains);
    this.streams = new Set(stored.streams.map(([d, a, s]) => streamKey(d, a, s)));
    this.tasks = new Set(stored.tasks);
  }

  domain(domain: string): DropReason | undefined {
    if (this.domains.has(domain)) return undefined;
    if (this.domains.size >= this.limits.caps.maxDomains) return 'domain_limit';
    if (!this.limits.takeId('domains')) return 'id_space_full';
    this.domains.add(domain);
    return undefined;
  }

  stream(domain: string, app: string, stream: string): DropReason | undefined {
    const key = streamKey(domain, app, stream);
    if (this.streams.has(key)) return undefined;
    if (this.streams.size >= this.limits.caps.maxStreams) return 'stream_limit';
    if (!this.limits.takeId('streams')) return 'id_space_full';
    this.streams.add(key);
    return undefined;
  }

  /** True when the task exists or may be created (it is then counted as existing). */
  task(taskId: string): boolean {
    if (this.tasks.has(taskId)) return true;
    if (this.tasks.size >= this.limits.caps.maxCarouselTasks) return false;
    this.tasks.add(taskId);
    return true;
  }

  /** Names that reached the store another way (cells parsed by worker threads): known from now on. */
  note(domains: Iterable<string>, streams: Iterable<readonly [string, string, string]>): void {
    for (const d of domains) if (!this.domains.has(d)) {
      this.domains.add(d);
      this.limits.takeId('domains');
    }
    for (const [d, a, s] of streams) {
      const key = streamKey(d, a, s);
      if (!this.streams.has(key)) {
        this.streams.add(key);
        this.limits.takeId('streams');
      }
    }
  }

  /**
   * The stream gate of parse workers: the known streams and one shared budget of new ones. A new
   * stream first seen by two workers at once takes two from the budget (the cap is then reached
   * a little early: never exceeded).
   */
  snapshot(): NameGateSnapshot {
    const room = Math.max(0, this.limits.caps.maxStreams - this.streams.size);
    const space = this.limits.space.streams;
    const left = new Int32Array(new SharedArrayBuffer(4));
    left[0] = Math.min(room, space, 0x7fffffff);
    return { streams: [...this.streams], left, streamReason: room <= space ? 'stream_limit' : 'id_space_full' };
  }
}

/**
 * Removes the cells of the given domains from a batch (playback and traffic, slots and tuples
 * renumbered); returns the batch without them and the requests (lines) removed per domain.
 */
export function dropDomains(c: PackedCells, refused: ReadonlySet<string>): { cells: PackedCells; removed: Map<string, number> } {
  const removed = new Map<string, number>();
  const slotMap = new Int32Array(c.slotDomains.length).fill(-1);
  const slotDomains: string[] = [];
  const slotMinutes: number[] = [];
  c.slotDomains.forEach((d, i) => {
    if (refused.has(d)) return;
    slotMap[i] = slotDomains.length;
    slotDomains.push(d);
    slotMinutes.push(c.slotMinutes[i] as number);
  });
  const keep: number[] = [];
  for (let i = 0; i < c.keys.length; i++) {
    const { slot } = unpackKey(c.keys[i] as number);
    if ((slotMap[slot] as number) >= 0) keep.push(i);
    else {
      const d = c.slotDomains[slot] as string;
      removed.set(d, (removed.get(d) ?? 0) + (c.counts[i] as number));
    }
  }
  const keys = new Int32Array(keep.length);
  const counts = new Float64Array(keep.length);
  const bytes = new Float64Array(keep.length);
  keep.forEach((i, j) => {
    const { slot, geo, code } = unpackKey(c.keys[i] as number);
    keys[j] = ((slotMap[slot] as number) * PACKED_GEOS + geo) * PACKED_CODES + code;
    counts[j] = c.counts[i] as number;
    bytes[j] = c.bytes[i] as number;
  });
  const out: PackedCells = { slotDomains, slotMinutes, keys, counts, bytes };
  const t = c.traffic;
  if (t) {
    const tupleMap = new Int32Array(t.domains.length).fill(-1);
    const domains: string[] = [];
    const apps: string[] = [];
    const streams: string[] = [];
    t.domains.forEach((d, k) => {
      if (refused.has(d)) return;
      tupleMap[k] = domains.length;
      domains.push(d);
      apps.push(t.apps[k] as string);
      streams.push(t.streams[k] as string);
    });
    const kept: number[] = [];
    for (let i = 0; i < t.tuple.length; i++) if ((tupleMap[t.tuple[i] as number] as number) >= 0) kept.push(i);
    const pick = <A extends Float64Array | Uint8Array>(from: A, make: (n: number) => A): A => {
      const a = make(kept.length);
      kept.forEach((i, j) => (a[j] = from[i] as number));
      return a;
    };
    const tuple = new Int32Array(kept.length);
    kept.forEach((i, j) => (tuple[j] = tupleMap[t.tuple[i] as number] as number));
    out.traffic = {
      domains, apps, streams, tuple,
      slot: pick(t.slot, (n) => new Float64Array(n)), geo: pick(t.geo, (n) => new Uint8Array(n)),
      protocol: pick(t.protocol, (n) => new Uint8Array(n)), ipType: pick(t.ipType, (n) => new Uint8Array(n)),
      requests: pick(t.requests, (n) => new Float64Array(n)), bytes: pick(t.bytes, (n) => new Float64Array(n)),
    };
  }
  return { cells: out, removed };
}

/** The gate a parse worker builds from a snapshot: streams against the shared budget; domains pass (checked on the main thread). */
export function snapshotGate(s: NameGateSnapshot): NameGate {
  const streams = new Set(s.streams);
  return {
    domain: () => undefined,
    stream(domain, app, stream) {
      const key = streamKey(domain, app, stream);
      if (streams.has(key)) return undefined;
      if (Atomics.sub(s.left, 0, 1) <= 0) return s.streamReason;
      streams.add(key);
      return undefined;
    },
  };
}

/** A space without a bound (a store that does not say). */
const UNBOUNDED: NameSpace = { domains: Number.MAX_SAFE_INTEGER, streams: Number.MAX_SAFE_INTEGER };

/**
 * The names every project has, loaded from the store on a project's first use (so the caps hold
 * across restarts), and the series ids the store has left for new names (shared by all projects).
 * One per process: processes sharing a store each admit up to the cap from what was stored when
 * they loaded (docs/storage.md: where the caps are approximate). reload() re-reads everything
 * (after retention freed names and ids).
 */
export class NameLimits {
  private readonly projects = new Map<string, Promise<ProjectNames>>();
  space: NameSpace = { ...UNBOUNDED };
  private spaceLoaded: Promise<void> | undefined;

  constructor(private readonly store: Store, readonly caps: NameCaps) {}

  /** The project's gate, its stored names loaded. */
  async gate(project: string): Promise<ProjectNames> {
    if (!this.spaceLoaded) {
      this.spaceLoaded = this.loadSpace();
      this.spaceLoaded.catch(() => (this.spaceLoaded = undefined)); // asked again next time
    }
    await this.spaceLoaded;
    let p = this.projects.get(project);
    if (!p) {
      p = this.load(project);
      this.projects.set(project, p);
      p.catch(() => this.projects.delete(project));
    }
    return p;
  }

  private async load(project: string): Promise<ProjectNames> {
    const names = new ProjectNames(project, this);
    if (this.store.storedNames) names.fill(await this.store.storedNames(project));
    return names;
  }

  private async loadSpace(): Promise<void> {
    this.space = this.store.nameSpace ? { ...(await this.store.nameSpace()) } : { ...UNBOUNDED };
  }

  /** Re-reads the stored names of every loaded project and the free id space (the gates stay the same objects). */
  async reload(): Promise<void> {
    await this.loadSpace();
    for (const p of this.projects.values()) {
      const names = await p.catch(() => undefined);
      if (names && this.store.storedNames) names.fill(await this.store.storedNames(names.project));
    }
  }

  /** Takes one id of the shared space for a new name; false when none is left. */
  takeId(kind: keyof NameSpace): boolean {
    if (this.space[kind] <= 0) return false;
    this.space[kind]--;
    return true;
  }
}
