import { rename, writeFile } from 'node:fs/promises';
import type { Metrics } from './registry.js';

/**
 * Writes the exposition to a file for node_exporter's textfile collector (`*.prom` in its
 * --collector.textfile.directory): to a temporary file first, then renamed over the old one,
 * so a scrape never reads half a file.
 */
export class MetricsFile {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;

  constructor(
    readonly path: string,
    private readonly metrics: Metrics,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  async write(): Promise<void> {
    while (this.writing) await this.writing;
    this.writing = (async () => {
      const tmp = `${this.path}.${process.pid}.tmp`;
      await writeFile(tmp, await this.metrics.text());
      await rename(tmp, this.path);
    })();
    try {
      await this.writing;
    } finally {
      this.writing = undefined;
    }
  }

  /** Rewrites the file every `intervalMs` until stop() (a failed write is reported, the next one tried). */
  start(intervalMs: number): void {
    this.timer ??= setInterval(() => void this.write().catch(this.onError), intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes the final figures. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.write();
  }
}
