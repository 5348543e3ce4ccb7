import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Backoff } from '../probe/backoff.js';
import { runChild, silentLog, type ChildExit, type Log, type RunningChild } from '../probe/child.js';
import { StreamProbe, type StreamProbeOptions } from '../probe/probe.js';
import type { SampleSink } from '../probe/sink.js';
import { concatList, inspectFile, locate, preparePlaylist, rotate, type PlaylistItem } from './playlist.js';

/** What a carousel plays and where (the CLI flags, or one entry of `serve --carousel`). */
export interface CarouselTaskSpec {
  project: string;
  taskId: string;
  playlist: string[];
  /** Publish target, e.g. rtmp://127.0.0.1/live/channel1 */
  to: string;
  loop: boolean;
  /** Where to watch the output (default: `to`). */
  probeUrl?: string;
}

export interface CarouselRunnerOptions extends CarouselTaskSpec {
  sink: SampleSink;
  log?: Log;
  ffmpeg?: string;
  ffprobe?: string;
  restartMinMs?: number;
  restartMaxMs?: number;
  /** Probe tuning (timeouts, bucketing); url and sink are set by the runner. */
  probe?: Omit<StreamProbeOptions, 'url' | 'onSamples'>;
}

/** ffmpeg dying this soon into a file gets the file re-inspected (and skipped when broken). */
const EARLY_FAILURE_SEC = 3;

/** Output container for a target URL: FLV for RTMP, MPEG-TS for SRT/UDP/TCP and anything else. */
export const formatFor = (url: string): string => (/^rtmps?:/i.test(url) ? 'flv' : 'mpegts');

/**
 * Plays a playlist back to back in real time (`ffmpeg -re`, concat demuxer, stream copy) to
 * one target, restarting ffmpeg with backoff when it dies, skipping files that keep failing,
 * and probing its own output at the target so the task's telemetry is measured, not assumed.
 */
export class CarouselRunner {
  private readonly log: Log;
  private readonly probe: StreamProbe;
  private child: RunningChild | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: CarouselRunnerOptions) {
    this.log = options.log ?? silentLog;
    this.probe = new StreamProbe({
      ...options.probe,
      log: options.probe?.log ?? this.log,
      ffprobe: options.ffprobe,
      url: options.probeUrl ?? options.to,
      onSamples: (samples) => options.sink.add(samples),
    });
  }

  /** Starts playing; the promise settles when the playlist ends (no loop), or rejects when nothing is playable. */
  start(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.child?.kill();
    await this.running?.catch(() => undefined);
    await this.probe.stop();
  }

  /** The running ffmpeg's process id (for operators and tests that simulate a crash). */
  ffmpegPid(): number | undefined {
    return this.child?.process.pid;
  }

  probeStatus(): ReturnType<StreamProbe['status']> {
    return this.probe.status();
  }

  private async run(): Promise<void> {
    const { taskId } = this.options;
    const workDir = await mkdtemp(join(tmpdir(), 'livestats-carousel-'));
    try {
      let items = await preparePlaylist(this.options.playlist, workDir, this.log, this.options);
      if (items.length === 0) throw new Error(`carousel ${taskId}: no playable file in the playlist`);
      if (this.stopped) return;
      this.probe.start();
      const backoff = new Backoff(this.options.restartMinMs ?? 1000, this.options.restartMaxMs ?? 30_000);
      let first = 0;
      let diedIn: PlaylistItem | undefined;
      while (!this.stopped) {
        const order = rotate(items, first);
        const started = Date.now();
        const { exit, playedSec } = await this.playOnce(order, workDir);
        if (this.stopped) break;
        if (exit.code === 0 && !this.options.loop) {
          this.log.info({ task: taskId }, 'carousel: playlist finished');
          await this.sleep((this.options.probe?.bucketer?.emitDelayMs ?? 3000) + 2000);
          break;
        }
        const at = locate(order, playedSec);
        const file = order[at.index] as PlaylistItem;
        first = items.indexOf(file);
        // Dying early in a file may be the file's fault (or the target's): look at the file again.
        const recheck = at.intoSec < EARLY_FAILURE_SEC ? await inspectFile(file.path, this.options.ffprobe) : file;
        if (typeof recheck === 'string') {
          this.log.error({ task: taskId, file: file.source, why: recheck }, `carousel: skipping broken file ${file.source}: ${recheck}`);
          items = items.filter((i) => i !== file);
          if (items.length === 0) throw new Error(`carousel ${taskId}: no playable file left`);
          first = first % items.length;
        } else if (playedSec > 0 && diedIn === file) {
          // died in the same file twice in a row: move on to the next one for this round
          this.log.error({ task: taskId, file: file.source }, `carousel: ffmpeg died twice in ${file.source}; continuing with the next file`);
          first = (first + 1) % items.length;
        }
        // nothing played at all with a good file: the target is the likely cause, keep the file
        diedIn = playedSec > 0 && typeof recheck !== 'string' && diedIn !== file ? file : undefined;
        const next = items[first] as PlaylistItem;
        if (Date.now() - started > 30_000) backoff.reset();
        const delay = backoff.next();
        const why = exit.spawnError ?? `ffmpeg exited with ${exit.code ?? exit.signal}`;
        this.log.warn(
          { task: taskId, why, stderr: exit.stderr, file: file.source, next: next.source, intoSec: Math.round(at.intoSec), retryInMs: delay },
          `carousel: ${why}${exit.stderr.length > 0 ? `: ${exit.stderr.at(-1)}` : ''}; restarting at ${next.source} in ${delay} ms`,
        );
        await this.sleep(delay);
      }
    } finally {
      await this.probe.stop();
      await rm(workDir, { recursive: true, force: true });
    }
  }

  private async playOnce(order: PlaylistItem[], workDir: string): Promise<{ exit: ChildExit; playedSec: number }> {
    const list = join(workDir, 'playlist.ffconcat');
    await writeFile(list, concatList(order));
    const args = [
      '-hide_banner', '-nostdin', '-loglevel', 'error', '-re',
      ...(this.options.loop ? ['-stream_loop', '-1'] : []),
      '-f', 'concat', '-safe', '0', '-i', list,
      '-map', '0:v?', '-map', '0:a?', '-c', 'copy',
      '-f', formatFor(this.options.to), '-progress', 'pipe:1', '-nostats', this.options.to,
    ];
    let playedSec = 0;
    const child = runChild(this.options.ffmpeg ?? 'ffmpeg', args, (line) => {
      const m = /^out_time_us=(\d+)$/.exec(line);
      if (m) playedSec = Number(m[1]) / 1e6;
    });
    this.child = child;
    this.log.info({ task: this.options.taskId, first: order[0]?.source, to: this.options.to }, 'carousel: ffmpeg started');
    const exit = await child.exited;
    this.child = undefined;
    return { exit, playedSec };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
