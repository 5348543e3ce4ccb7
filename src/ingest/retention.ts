import type { Store } from '../store/types.js';
import { FILE_CHECKPOINT_PREFIX } from './file-checkpoint.js';

const DAY = 86_400_000;

export interface RetentionLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Deletes data older than `days` now and then once a day; stop() cancels. */
export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store, private readonly days: number, private readonly logger: RetentionLogger,
    private readonly now: () => number = Date.now,
    /** Days the traffic cube keeps (its own retention); undefined: the same as `days`. */
    private readonly trafficDays?: number,
    /** Called after each pass (the name caps re-read what is stored: retention frees names and ids). */
    private readonly afterRun?: () => Promise<void>,
    /** Days the audience cube keeps (its own retention); undefined: the same as `days`. */
    private readonly audienceDays?: number,
  ) {}

  cutoff(): number {
    return this.now() - this.days * DAY;
  }

  async runOnce(): Promise<void> {
    const cutoff = this.cutoff();
    try {
      await this.store.deleteBefore(cutoff);
      await this.store.deleteTrafficBefore(this.now() - (this.trafficDays ?? this.days) * DAY);
      await this.store.deleteAudienceBefore(this.now() - (this.audienceDays ?? this.days) * DAY);
      // X-Batch-Id marks older than the retention can no longer protect anything.
      await this.store.deleteCheckpointsBefore?.('batch:', cutoff);
      await this.store.deleteCheckpointsBefore?.(FILE_CHECKPOINT_PREFIX, cutoff);
      this.logger.info({ cutoff: new Date(cutoff).toISOString() }, 'retention: deleted older data');
      await this.afterRun?.();
    } catch (err) {
      this.logger.error({ err }, 'retention: delete failed; will retry tomorrow');
    }
  }

  start(): void {
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), DAY);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
