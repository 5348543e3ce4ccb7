import type { Aggregator } from '../ingest/aggregator.js';
import type { Store } from '../store/types.js';
import { DEMO_TASK, demoSample } from './carousel.js';
import { demoTrafficRow } from './stream-traffic.js';
import { generateTraffic } from './traffic.js';

const SECOND = 1000;
const HOUR = 3_600_000;
const BACKFILL_STEP_MS = 600_000;

export interface DemoOptions {
  project: string;
  aggregator: Aggregator;
  store: Store;
  now?: () => number;
  tickMs?: number;
  backfillMs?: number;
  log?: (msg: string) => void;
}

/** The time range [from, until) the demo has generated, committed with the data it produced. */
interface DemoState {
  from: number;
  until: number;
}

/**
 * Demo mode: synthetic but realistic traffic and carousel telemetry fed through the real
 * aggregator. The generated range is stored as a checkpoint in the same transaction as
 * the data, so restarts neither repeat nor skip a moment. Live ticks extend the range
 * forward; the backfill extends it backward, newest hour first, to 24 hours.
 */
export class Demo {
  private state: DemoState = { from: 0, until: 0 };
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private backfill: Promise<void> | undefined;
  private readonly now: () => number;
  private readonly key: string;

  constructor(private readonly o: DemoOptions) {
    this.now = o.now ?? Date.now;
    this.key = `demo:${o.project}`;
  }

  async start(): Promise<void> {
    const { aggregator, project } = this.o;
    aggregator.registerTask(project, DEMO_TASK);
    const saved = await this.o.store.getCheckpoint(this.key);
    const now = this.now();
    const window = this.o.backfillMs ?? 24 * HOUR;
    const parsed = saved ? (JSON.parse(saved) as DemoState) : undefined;
    this.state = parsed && parsed.until > now - window ? parsed : { from: now, until: now };
    // Catch up the live edge (the time the server was down), newest data first would leave a hole.
    while (this.state.until < now - HOUR && !this.stopped) {
      this.extend(this.state.until, this.state.until + HOUR, 'forward');
      await this.o.aggregator.flush();
    }
    this.tick();
    this.timer = setInterval(() => this.tick(), this.o.tickMs ?? SECOND);
    this.timer.unref();
    // The live edge is committed first (one small flush): the first answers do not wait behind the
    // backfill's hours of playback and traffic cells.
    this.backfill = this.o.aggregator.flush().then(() => this.runBackfill(now - window)).catch((err: unknown) => {
      this.o.log?.(`demo backfill stopped: ${(err as Error).message}`);
    });
  }

  private tick(): void {
    const now = this.now();
    if (now > this.state.until) this.extend(this.state.until, now, 'forward');
  }

  /** Resolves when the backfill has finished (or stopped). */
  async backfilled(): Promise<void> {
    await this.backfill;
  }

  private async runBackfill(target: number): Promise<void> {
    const started = Date.now();
    let generated = 0;
    while (this.state.from > target && !this.stopped) {
      const hourFrom = Math.max(target, this.state.from - HOUR);
      // An hour in 10-minute steps (a few ms each on the event loop), then one flush.
      while (this.state.from > hourFrom && !this.stopped) {
        generated += this.extend(Math.max(hourFrom, this.state.from - BACKFILL_STEP_MS), this.state.from, 'backward');
        await new Promise((r) => setImmediate(r));
      }
      await this.o.aggregator.flush();
    }
    if (generated > 0) this.o.log?.(`demo backfill: ${generated} requests in ${Date.now() - started} ms`);
  }

  /** Generates [a, b) and moves the matching edge of the state; returns requests generated. */
  private extend(a: number, b: number, edge: 'forward' | 'backward'): number {
    const { aggregator, project } = this.o;
    // Every request also feeds the traffic cube (bytes by protocol, a stream, an address family), the
    // backfill too, so the dashboard's Traffic view has 24 h of bandwidth on a fresh start; its cells
    // go in the same flush (and checkpoint) as the playback counts of the same hour.
    const n = generateTraffic(project, a, b, Math.random, (r) => {
      const t = demoTrafficRow(r, Math.random);
      aggregator.add(r, 1, t.bytes);
      aggregator.addTraffic(t);
    });
    for (let s = Math.ceil(a / SECOND) * SECOND; s < b; s += SECOND) {
      aggregator.addSample({ project, taskId: DEMO_TASK, ...demoSample(s) });
    }
    if (edge === 'forward') this.state.until = b;
    else this.state.from = a;
    aggregator.checkpoint(this.key, JSON.stringify(this.state));
    return n;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.backfill;
  }
}
