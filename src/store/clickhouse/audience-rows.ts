import { AUDIENCE_PROTOCOLS, type ProjectAudience } from '../audience.js';
import { cellValue } from '../cell-values.js';
import { ISPS, REGIONS } from '../../contract/values.js';
import type { TsvBytes } from './sql.js';

/**
 * The audience rows of a write batch as TabSeparated bytes (sql.ts TsvBytes), written a chunk at a
 * time: a batch's rows are first only references (which project, which entry), and each chunk's
 * text is made just before its INSERT, so a big batch (a dense file: half a million cells, as many
 * users) never holds a string per row. The rows and their order are those of the cells: a retry of
 * the same batch makes the same chunks.
 */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** Rows of one table: entry `at[n]` of project batch `batch[n]`, in the batch's order. */
export interface RowRefs {
  batch: number[];
  at: number[];
}

const refs = (): RowRefs => ({ batch: [], at: [] });
/** Notes row `at` of batch `batch` in `r`. */
const keep = (r: RowRefs, batch: number, at: number): void => {
  r.batch.push(batch);
  r.at.push(at);
};

/** One project's names as escaped bytes, made once per batch. */
interface Names {
  project: Buffer;
  domains: Buffer[];
  apps: Buffer[];
  streams: Buffer[];
}

export type RowKind = 'cells' | 'sessions' | 'hls' | 'users';

export class AudienceRows {
  readonly cells = refs();
  readonly sessions = refs();
  readonly hls = refs();
  readonly users = refs();
  private readonly names: Names[];
  private readonly protocols: Buffer[];
  /** `region TAB isp` per geo code (region index x 4 + isp index). */
  private readonly geos: Buffer[] = [];

  /** `stamp`: called with each (project, domain, minute) of a cells/sessions/HLS row and each (project, domain, day) of a user row. */
  constructor(readonly batches: readonly ProjectAudience[], w: TsvBytes,
    stamp?: { hour: (project: string, domain: string, minute: number) => void; day: (project: string, domain: string, day: number) => void }) {
    this.protocols = AUDIENCE_PROTOCOLS.map((p) => w.escaped(p));
    for (let r = 0; r < REGIONS.length; r++) {
      for (let i = 0; i < ISPS.length; i++) {
        this.geos[r * 4 + i] = Buffer.concat([w.escaped(REGIONS[r] as string), Buffer.from('\t'), w.escaped(ISPS[i] as string)]);
      }
    }
    this.names = batches.map(({ project, cells: c }) => ({
      project: w.escaped(project),
      domains: c.domains.map((d) => w.escaped(d)),
      apps: c.apps.map((a) => w.escaped(a)),
      streams: c.streams.map((s) => w.escaped(s)),
    }));
    batches.forEach(({ project, cells: c }, b) => {
      const named = (k: number): boolean => (c.apps[k] ?? '') !== '' && (c.streams[k] ?? '') !== '';
      for (let i = 0; i < c.tuple.length; i++) {
        const k = c.tuple[i] as number;
        if (!named(k)) continue;
        if ((c.sessions[i] as number) > 0 || (c.bytes[i] as number) > 0 || (c.requests[i] as number) > 0 || (c.playMs[i] as number) > 0) keep(this.cells, b, i);
        if ((c.opens?.[i] ?? 0) > 0 || (c.closes?.[i] ?? 0) > 0) keep(this.sessions, b, i);
        stamp?.hour(project, c.domains[k] as string, Math.floor((c.minute[i] as number) / MINUTE_MS));
      }
      for (let i = 0; i < c.hlsTuple.length; i++) {
        const k = c.hlsTuple[i] as number;
        if (!named(k)) continue;
        stamp?.hour(project, c.domains[k] as string, Math.floor((c.hlsMinute[i] as number) / MINUTE_MS));
        keep(this.hls, b, i);
      }
      for (let i = 0; i < c.userTuple.length; i++) {
        const k = c.userTuple[i] as number;
        if (!named(k)) continue;
        stamp?.day(project, c.domains[k] as string, Math.floor((c.userDay[i] as number) / DAY_MS));
        keep(this.users, b, i);
      }
    });
  }

  /** The project of a cells or sessions row, and its epoch minute (its marker group). */
  project(b: number): string {
    return (this.batches[b] as ProjectAudience).project;
  }

  minute(b: number, i: number): number {
    return Math.floor(((this.batches[b] as ProjectAudience).cells.minute[i] as number) / MINUTE_MS);
  }

  /** Writes row `i` of project batch `b` of a table (its columns as the table's INSERT in audience.ts lists them). */
  write(kind: RowKind, w: TsvBytes, b: number, i: number): void {
    const c = (this.batches[b] as ProjectAudience).cells;
    const n = this.names[b] as Names;
    if (kind === 'cells' || kind === 'sessions') {
      const k = c.tuple[i] as number;
      this.key(w, n, k).int(Math.floor((c.minute[i] as number) / MINUTE_MS)).tab();
      w.raw(n.apps[k] as Buffer).tab().raw(n.streams[k] as Buffer).tab().raw(this.protocols[c.protocol[i] as number] as Buffer).tab()
        .raw(this.geos[c.geo[i] as number] as Buffer).tab().tab();
      if (kind === 'cells') {
        w.int(cellValue(c.sessions[i] as number)).tab().int(cellValue(c.bytes[i] as number)).tab().int(cellValue(c.requests[i] as number)).tab()
          .int(cellValue(c.playMs[i] as number)).tab().int(0).end();
      } else {
        w.int(cellValue(c.opens?.[i] ?? 0)).tab().int(cellValue(c.closes?.[i] ?? 0)).tab().int(0).end();
      }
      return;
    }
    if (kind === 'hls') {
      const k = c.hlsTuple[i] as number;
      this.key(w, n, k).int(Math.floor((c.hlsMinute[i] as number) / MINUTE_MS)).tab();
      w.raw(n.apps[k] as Buffer).tab().raw(n.streams[k] as Buffer).tab().raw(this.geos[c.hlsGeo[i] as number] as Buffer).tab();
      ip(w, c.hlsV4?.[i], c.hlsIp[i] as string);
      w.end();
      return;
    }
    const k = c.userTuple[i] as number;
    this.key(w, n, k).int(Math.floor((c.userDay[i] as number) / DAY_MS)).tab().raw(n.streams[k] as Buffer).tab();
    ip(w, c.userV4?.[i], c.userIp[i] as string);
    w.end();
  }

  private key(w: TsvBytes, n: Names, k: number): TsvBytes {
    return w.raw(n.project).tab().raw(n.domains[k] as Buffer).tab();
  }
}

/** A client IP: an IPv4 travels as its integer (audienceIp in src/store/audience.ts), written as its dotted text. */
function ip(w: TsvBytes, v4: number | undefined, text: string): void {
  if (v4 !== undefined && v4 >= 0) w.ipv4(v4);
  else w.once(text);
}
