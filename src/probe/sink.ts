import type { CarouselSample } from '../contract/carousel.js';
import { formatUtcSecond } from '../contract/time.js';
import type { Aggregator } from '../ingest/aggregator.js';
import { silentLog, type Log } from './child.js';

/** Where a probe's per-second samples go. */
export interface SampleSink {
  add(samples: CarouselSample[]): void;
  close(): Promise<void>;
}

/** Inside the server: straight into the aggregator (the task exists from the start). */
export function aggregatorSink(aggregator: Aggregator, project: string, taskId: string): SampleSink {
  aggregator.registerTask(project, taskId);
  return {
    add(samples) {
      for (const s of samples) aggregator.addSample({ ...s, project, taskId });
    },
    close: async () => {},
  };
}

export interface HttpSinkOptions {
  /** Base URL of a livestats server, e.g. http://127.0.0.1:8080 */
  server: string;
  project: string;
  taskId: string;
  /** Sent as X-Auth-Token when set. */
  token?: string;
  intervalMs?: number;
  /** Samples kept while the server is unreachable (oldest dropped beyond this). */
  maxQueued?: number;
  log?: Log;
  /**
   * Called (once) when the server answers 401: the token is missing, wrong or revoked, and sending
   * again will not help. Without it, a 401 is retried like an outage.
   */
  onAuthRejected?: (message: string) => void;
}

const MAX_PER_POST = 3600;

/** From a separate process: posts samples to the intake endpoint every interval, retrying failures. */
export class HttpSampleSink implements SampleSink {
  private queue: CarouselSample[] = [];
  private readonly timer: NodeJS.Timeout;
  private sending: Promise<void> | undefined;
  private readonly log: Log;
  private failing = false;
  private readonly url: string;

  constructor(private readonly options: HttpSinkOptions) {
    this.log = options.log ?? silentLog;
    const base = options.server.replace(/\/+$/, '');
    this.url = `${base}/ingest/v1/${encodeURIComponent(options.project)}/carousel-tasks/${encodeURIComponent(options.taskId)}/samples`;
    this.timer = setInterval(() => void this.send(), options.intervalMs ?? 1000);
  }

  add(samples: CarouselSample[]): void {
    this.queue.push(...samples);
    const max = this.options.maxQueued ?? 3 * 3600;
    if (this.queue.length > max) {
      const dropped = this.queue.length - max;
      this.queue = this.queue.slice(dropped);
      this.log.error({ dropped }, 'sink: server unreachable for too long; dropping the oldest samples');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.send();
  }

  private send(): Promise<void> {
    this.sending ??= this.post().finally(() => {
      this.sending = undefined;
    });
    return this.sending;
  }

  private rejected = false;

  private authRejected(body: string): void {
    if (this.rejected) return;
    this.rejected = true;
    clearInterval(this.timer);
    const what = this.options.token ? 'refused the token' : 'requires a token';
    this.options.onAuthRejected?.(`${this.options.server} ${what} (401 ${body.slice(0, 200)}); check --token or LIVESTATS_TOKEN ` +
      '(create one with `npx livestats keys create --project <id>`); no sample was stored');
  }

  private async post(): Promise<void> {
    if (this.rejected) return;
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, MAX_PER_POST);
      const body = batch.map((s) => ({
        time: formatUtcSecond(s.second), video_fps: s.videoFps, video_kbps: s.videoKbps,
        audio_fps: s.audioFps, audio_kbps: s.audioKbps,
      }));
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (this.options.token) headers['x-auth-token'] = this.options.token;
      try {
        const res = await fetch(this.url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
        const text = await res.text();
        if (res.status === 401 && this.options.onAuthRejected) {
          this.authRejected(text);
          return;
        }
        if (res.status >= 500 || res.status === 401) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
        // a 4xx other than auth will not succeed on retry: log it and move on
        if (!res.ok) this.log.error({ status: res.status, body: text.slice(0, 300) }, 'sink: server rejected samples');
      } catch (err) {
        if (!this.failing) this.log.warn({ err: (err as Error).message, queued: this.queue.length }, 'sink: cannot post samples; will retry');
        this.failing = true;
        return;
      }
      if (this.failing) this.log.info({ queued: this.queue.length }, 'sink: posting samples again');
      this.failing = false;
      this.queue = this.queue.slice(batch.length);
    }
  }
}
