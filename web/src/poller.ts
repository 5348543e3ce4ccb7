/**
 * Runs a load now and, while it says the data is live, again every `intervalMs`. A new `now()`
 * aborts the load in flight, so an older answer never overwrites a newer one.
 */
export class Poller {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private controller: AbortController | undefined;

  constructor(
    private readonly load: (signal: AbortSignal) => Promise<boolean>,
    readonly intervalMs: number,
  ) {}

  async now(): Promise<void> {
    this.stop();
    const controller = new AbortController();
    this.controller = controller;
    let again = false;
    try {
      again = await this.load(controller.signal);
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    }
    if (again && this.controller === controller && !controller.signal.aborted) {
      this.timer = setTimeout(() => void this.now(), this.intervalMs);
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.controller?.abort();
    this.controller = undefined;
  }
}
