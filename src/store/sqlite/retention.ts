import type Database from 'better-sqlite3';
import type { BlockTable } from '../blocks/table.js';
import { HTTP_CUBE, MINUTE_MS, SAMPLES, SAMPLE_BLOCK_SECONDS, SECOND_MS } from './layout.js';
import { reclaimSlice } from './series-ids.js';
import { deleteDomainSumsBefore, domainSumSeries } from './audience-sums.js';
import { AUDIENCE_BLOCK_SLOTS, AUDIENCE_DOMAINS, AUDIENCE_SLOT_MS, AUDIENCE_STREAMS } from './audience-layout.js';
import { TRAFFIC_DOMAINS, TRAFFIC_SLOT_MS, TRAFFIC_STREAMS, TRAFFIC_TOTALS } from './traffic-layout.js';

/** Blocks deleted per transaction to start with; adapted so a slice stays around TARGET_MS. */
const FIRST_SLICE = 64;
const TARGET_MS = 4;
const MAX_SLICE = 4096;
/** Playback series looked at per reclamation transaction. */
const RECLAIM_SLICE = 2048;
/** Domain series whose audience block sums one retention transaction deletes. */
const SUMS_SLICE = 256;

/**
 * Retention by whole blocks: deletes blocks that end before the cutoff, a slice at a time (one
 * short transaction each), yielding to the event loop between slices, so neither the server's
 * requests nor other writers wait behind one long delete. Data in the block holding the cutoff
 * stays until a later pass.
 */
export class RetentionSlicer {
  private slice = FIRST_SLICE;
  /** Slices run by the last pass (tests look at this to see that the work was spread). */
  lastSlices = 0;

  constructor(private readonly db: Database.Database, private readonly pause: () => Promise<void> = () => new Promise((r) => setImmediate(r))) {}

  private targets(cutoff: number): Array<{ table: BlockTable; before: number }> {
    const hourBlocks = HTTP_CUBE.spec.blockSlots * MINUTE_MS;
    return [
      ...HTTP_CUBE.levels.map((l) => ({ table: l.table, before: Math.floor(cutoff / hourBlocks) })),
      { table: SAMPLES, before: Math.floor(cutoff / (SAMPLE_BLOCK_SECONDS * SECOND_MS)) },
    ];
  }

  /** The traffic cubes' blocks (their own, longer retention). */
  private trafficTargets(cutoff: number): Array<{ table: BlockTable; before: number }> {
    return [...TRAFFIC_DOMAINS.levels, ...TRAFFIC_STREAMS.levels, ...TRAFFIC_TOTALS.levels]
      .map((l) => ({ table: l.table, before: Math.floor(cutoff / (l.table.slots * TRAFFIC_SLOT_MS)) }));
  }

  /** Playback series ids freed by the last pass. */
  lastFreed = 0;

  async run(cutoff: number): Promise<void> {
    await this.runOn(this.targets(cutoff));
    await this.reclaim(Math.floor(cutoff / (HTTP_CUBE.spec.blockSlots * MINUTE_MS)));
  }

  /** Frees the ids of playback series with no block left (see series-ids.ts), a slice per short transaction. */
  private async reclaim(beforeBlock: number): Promise<void> {
    this.lastFreed = 0;
    let after = 0;
    for (;;) {
      const r = this.db.transaction(() => reclaimSlice(this.db, after, beforeBlock, RECLAIM_SLICE)).immediate();
      this.lastFreed += r.freed;
      after = r.last;
      if (r.scanned < RECLAIM_SLICE) return;
      await this.pause();
    }
  }

  async runTraffic(cutoff: number): Promise<void> {
    await this.runOn(this.trafficTargets(cutoff));
  }

  /** The audience cube's blocks (whole blocks before the cutoff) and its exact sets (minutes and days before it). */
  async runAudience(cutoff: number): Promise<void> {
    const blockMs = AUDIENCE_BLOCK_SLOTS * AUDIENCE_SLOT_MS;
    await this.runOn([...AUDIENCE_DOMAINS.levels, ...AUDIENCE_STREAMS.levels].map((l) => ({ table: l.table, before: Math.floor(cutoff / blockMs) })));
    // The blocks' sums (schema v16): a short transaction per slice of domain series.
    const sids = domainSumSeries(this.db);
    for (let at = 0; at < sids.length; at += SUMS_SLICE) {
      this.db.transaction(() => deleteDomainSumsBefore(this.db, sids.slice(at, at + SUMS_SLICE), Math.floor(cutoff / blockMs))).immediate();
      await this.pause();
    }
    await this.rangeDelete('aud_hls', 'minute', Math.floor(cutoff / 60_000));
    await this.rangeDelete('aud_users', 'day', Math.floor(cutoff / 86_400_000));
    await this.rangeDelete('aud_hls_v4', 'minute', Math.floor(cutoff / 60_000));
    await this.rangeDelete('aud_users_v4', 'day', Math.floor(cutoff / 86_400_000));
    await this.rangeDelete('aud_user_counts', 'day', Math.floor(cutoff / 86_400_000));
  }

  /** Deletes rows whose leading key column is below `before`, a slice per short transaction. */
  private async rangeDelete(table: string, column: string, before: number): Promise<void> {
    const first = this.db.prepare(`SELECT min(${column}) FROM ${table}`).pluck();
    const del = this.db.prepare(`DELETE FROM ${table} WHERE ${column} = ?`);
    for (;;) {
      const low = first.get() as number | null;
      if (low === null || low >= before) return;
      this.db.transaction(() => del.run(low)).immediate();
      await this.pause();
    }
  }

  private async runOn(targets: Array<{ table: BlockTable; before: number }>): Promise<void> {
    this.lastSlices = 0;
    for (const { table, before } of targets) {
      for (;;) {
        const t0 = performance.now();
        const n = this.db.transaction(() => table.deleteSlice(this.db, before, this.slice)).immediate();
        this.lastSlices++;
        const ms = performance.now() - t0;
        if (n < this.slice) break;
        if (ms < TARGET_MS / 2) this.slice = Math.min(MAX_SLICE, this.slice * 2);
        else if (ms > TARGET_MS * 2) this.slice = Math.max(8, Math.floor(this.slice / 2));
        await this.pause();
      }
    }
  }
}
