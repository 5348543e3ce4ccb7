import type { PortraitDay } from '../audience.js';
import { BlockCache, EMPTY_STAMP, type HourBlocksOptions, type StampedBlock } from './block-cache.js';
import type { ChConnection } from './client.js';
import { table, type SchemaNames } from './schema.js';
import { readStampRows, stampKey, StampReads, type StampColumns } from './stamp-reads.js';

const DAY = 86_400_000;
/** How long at most a day stamps read waits for the clients just answered to ask again (SharedReads' holdMs). */
const HOLD_MS = 2;
/** Portraits kept at most (a few dozen bytes each). */
const MAX_DAYS = 100_000;

/**
 * A day's whole stamp in the audience day stamps (migration 017): (rows, tags), the sum of its hour stamps (the
 * cells, sessions and HLS viewers), and (user_rows, user_tags), its distinct users'.
 */
const DAY_STAMP: StampColumns = { time: 'day', sums: ['rows', 'tags', 'user_rows', 'user_tags'] };

interface DayBlock extends StampedBlock {
  portrait: PortraitDay;
}

/**
 * A whole domain's portrait of a closed UTC day kept in this node's memory per (project, domain, day), checked
 * against the audience day stamps of migration 017, all four columns (every insert into a table the portrait reads,
 * and every retried write's bump, changes its day's stamp): so such a portrait costs one stamps read of one row, not the
 * two reads (the day's hour stamps, its users stamp) of the blocks it is made of (audience-blocks.ts).
 *
 * Exact while several nodes write, by the rule of the hour blocks (stamp-reads.ts): an answer comes from memory
 * only when a shared stamps read sent after the request arrived returns the stamp the portrait was kept under.
 * A portrait is kept under stamp S only when S was read before it was computed and read again, unchanged,
 * after: every write acknowledged before S was read is in what was computed (its stamp rows, hence its data
 * rows, were there), and any write after changes the stamp. A day not closed `closedAfterMs` ago is computed
 * every time; a kept portrait is recomputed after `maxAgeMs` whatever its stamp (as every block).
 */
export class PortraitDays {
  private readonly cache: BlockCache<DayBlock>;
  readonly stats: BlockCache<DayBlock>['stats'];
  private readonly stampsTable: string;

  constructor(private readonly server: ChConnection, names: SchemaNames, options: HourBlocksOptions = {}) {
    this.stampsTable = table(names, 'audience_day_stamps');
    this.cache = new BlockCache<DayBlock>(new StampReads(server, this.stampsTable, 'domain', 1, DAY_STAMP, HOLD_MS), options, MAX_DAYS);
    this.stats = this.cache.stats;
  }

  /**
   * The portrait of `domain` on the UTC day starting at `day` (epoch ms): from memory when current, else by
   * `compute` (then kept if the day's stamp did not change meanwhile: checked by a read of its own, after the answer).
   */
  async portrait(project: string, domain: string, day: number, compute: () => Promise<PortraitDay>, signal?: AbortSignal,
    now = Date.now()): Promise<PortraitDay> {
    if (this.cache.closed || day % DAY !== 0 || day + DAY > now - this.cache.closedAfterMs) return compute();
    const d = day / DAY;
    const k = stampKey(project, domain, d);
    const stamps = await this.cache.stampReads.read(project, [domain], d, d + 1);
    signal?.throwIfAborted();
    const b = this.cache.current(k, stamps, now);
    if (b) {
      this.cache.answered(0);
      return { ...b.portrait };
    }
    this.stats.bySql++;
    const before = stamps.get(k) ?? EMPTY_STAMP;
    const out = await compute();
    if (this.cache.claim(k)) this.cache.enqueue(() => this.keep(project, domain, d, before, now, { ...out }), () => [k]);
    return out;
  }

  /** Keeps `portrait`, computed after the day's stamp read `before` (by `builtAt`), if a read now still finds that stamp. */
  private async keep(project: string, domain: string, d: number, before: string, builtAt: number, portrait: PortraitDay): Promise<void> {
    if (this.cache.closed) return;
    const k = stampKey(project, domain, d);
    const after = (await readStampRows(this.server, this.stampsTable, 'domain', DAY_STAMP, [project], [domain], d, d + 1)).get(k) ?? EMPTY_STAMP;
    if (after !== before) {
      this.stats.discarded++;
      return;
    }
    this.cache.put(k, { stamp: before, builtAt, portrait });
    this.stats.built++;
  }

  close(): void {
    this.cache.closed = true;
  }
}
