import type { Aggregator } from '../ingest/aggregator.js';
import { Backoff } from '../probe/backoff.js';
import { silentLog, type Log } from '../probe/child.js';
import { aggregatorSink } from '../probe/sink.js';
import { CarouselRunner, type CarouselRunnerOptions, type CarouselTaskSpec } from './runner.js';

export interface SupervisorOptions {
  aggregator: Aggregator;
  log?: Log;
  restartMinMs?: number;
  restartMaxMs?: number;
  /** Extra runner settings (tools, timeouts) for every task. */
  runner?: Partial<Omit<CarouselRunnerOptions, keyof CarouselTaskSpec | 'sink'>>;
}

/**
 * Runs a set of carousel tasks inside the server (`serve --carousel`). A runner that gives
 * up (e.g. every file failed) is started again with backoff, so a fixed file or a returning
 * target brings the channel back without a restart; a finished non-looping playlist stays done.
 */
export class CarouselSupervisor {
  private readonly runners = new Map<string, CarouselRunner>();
  private readonly loops: Array<Promise<void>> = [];
  private stopped = false;
  private readonly log: Log;
  private readonly wakers = new Set<() => void>();

  constructor(private readonly specs: readonly CarouselTaskSpec[], private readonly options: SupervisorOptions) {
    this.log = options.log ?? silentLog;
  }

  start(): void {
    for (const spec of this.specs) this.loops.push(this.supervise(spec));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.wakers) wake();
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    await Promise.all(this.loops);
  }

  private async supervise(spec: CarouselTaskSpec): Promise<void> {
    const key = `${spec.project}/${spec.taskId}`;
    const backoff = new Backoff(this.options.restartMinMs ?? 2000, this.options.restartMaxMs ?? 60_000);
    const sink = aggregatorSink(this.options.aggregator, spec.project, spec.taskId);
    while (!this.stopped) {
      const runner = new CarouselRunner({ ...this.options.runner, ...spec, sink, log: this.log });
      this.runners.set(key, runner);
      const started = Date.now();
      try {
        await runner.start();
        if (!this.stopped) this.log.info({ task: key }, 'carousel: playlist done; task stays stopped');
        return;
      } catch (err) {
        if (this.stopped) return;
        await runner.stop();
        if (Date.now() - started > 60_000) backoff.reset();
        const delay = backoff.next();
        this.log.error({ task: key, err: (err as Error).message, retryInMs: delay }, `carousel: task failed (${(err as Error).message}); restarting in ${delay} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, delay);
          const wakers = this.wakers;
          function done(): void {
            clearTimeout(timer);
            wakers.delete(done);
            resolve();
          }
          wakers.add(done);
        });
      } finally {
        this.runners.delete(key);
      }
    }
  }
}
