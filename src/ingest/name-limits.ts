import type { DropReason } from './formats/types.js';
import type { NameSpace, StoredNames, Store } from '../store/types.js';

/** Per-project bounds on distinct names (src/config.ts: --max-domains, --max-streams, --max-carousel-tasks). */
export interface NameCaps {
  maxDomains: number;
  maxStreams: number;
  maxCarouselTasks: number;
}

export const DEFAULT_NAME_CAPS: NameCaps = { maxDomains: 10_000, maxStreams: 200_000, maxCarouselTasks: 1000 };

/**
 * What a line processor asks before it counts a line that names a domain or stream (the
 * processor asks only for names new to it since its last drain, so the cost is per name, not per
 * line). Answers undefined (count it) or the reason the line is dropped.
 */
export interface NameGate {
  domain(domain: string): DropReason | undefined;
  stream(domain: string, app: string, stream: string): DropReason | undefined;
}

/** A name gate as plain data, for a parse worker thread (see snapshotGate). */
export interface NameGateSnapshot {
  maxDomains: number;
  maxStreams: number;
  domains: string[];
  streams: string[];
  /** New names this gate may admit at most (its share of what is left of the cap and of the id space). */
  newDomains: number;
  newStreams: number;
  /** The reason for a new domain / stream once its share is used up. */
  domainReason: DropReason;
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
    if (this.domains.size >= this.limits.caps.maxDomains) return this.limits.refused('domain_limit');
    if (!this.limits.takeId('domains')) return this.limits.refused('id_space_full');
    this.domains.add(domain);
    return undefined;
  }

  stream(domain: string, app: string, stream: string): DropReason | undefined {
    const key = streamKey(domain, app, stream);
    if (this.streams.has(key)) return undefined;
    if (this.streams.size >= this.limits.caps.maxStreams) return this.limits.refused('stream_limit');
    if (!this.limits.takeId('streams')) return this.limits.refused('id_space_full');
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

  /** A gate for `shares` worker threads: each may admit its share of what is left. */
  snapshot(shares: number): NameGateSnapshot {
    const caps = this.limits.caps;
    const space = this.limits.space;
    const n = Math.max(1, shares);
    const domainRoom = Math.max(0, caps.maxDomains - this.domains.size);
    const streamRoom = Math.max(0, caps.maxStreams - this.streams.size);
    return {
      maxDomains: caps.maxDomains,
      maxStreams: caps.maxStreams,
      domains: [...this.domains],
      streams: [...this.streams],
      newDomains: Math.floor(Math.min(domainRoom, space.domains) / n),
      newStreams: Math.floor(Math.min(streamRoom, space.streams) / n),
      domainReason: domainRoom <= space.domains ? 'domain_limit' : 'id_space_full',
      streamReason: streamRoom <= space.streams ? 'stream_limit' : 'id_space_full',
    };
  }
}

/** The gate a parse worker builds from a snapshot (never admits more than its share). */
export function snapshotGate(s: NameGateSnapshot): NameGate {
  const domains = new Set(s.domains);
  const streams = new Set(s.streams);
  let newDomains = s.newDomains;
  let newStreams = s.newStreams;
  return {
    domain(domain) {
      if (domains.has(domain)) return undefined;
      if (newDomains <= 0) return s.domainReason;
      newDomains--;
      domains.add(domain);
      return undefined;
    },
    stream(domain, app, stream) {
      const key = streamKey(domain, app, stream);
      if (streams.has(key)) return undefined;
      if (newStreams <= 0) return s.streamReason;
      newStreams--;
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
  /** Lines dropped per reason by every gate of this process (metrics and logs). */
  readonly refusals: Partial<Record<DropReason, number>> = {};

  constructor(private readonly store: Store, readonly caps: NameCaps) {}

  /** The project's gate, its stored names loaded. */
  async gate(project: string): Promise<ProjectNames> {
    this.spaceLoaded ??= this.loadSpace();
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

  refused(reason: DropReason): DropReason {
    this.refusals[reason] = (this.refusals[reason] ?? 0) + 1;
    return reason;
  }
}
