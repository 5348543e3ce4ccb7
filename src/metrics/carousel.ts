import { Gauge, type Registry } from 'prom-client';
import type { SampleRow } from '../store/types.js';
import { OTHER, type SeriesBudget } from './series-budget.js';

interface Latest {
  project: string;
  task: string;
  second: number;
  videoFps: number;
  videoKbps: number;
  audioFps: number;
  audioKbps: number;
}

type Labels = 'project' | 'task';

/**
 * Per carousel task: the newest stored second's video/audio fps and kbps, and how old that
 * second is at scrape time. Tasks beyond the project's series budget are not exported (their
 * count is in livestats_metrics_folded_series_total{kind="task"}).
 */
export class CarouselMetrics {
  private readonly latest = new Map<string, Latest>();
  private readonly videoFps: Gauge<Labels>;
  private readonly videoKbps: Gauge<Labels>;
  private readonly audioFps: Gauge<Labels>;
  private readonly audioKbps: Gauge<Labels>;

  constructor(registry: Registry, private readonly budget: SeriesBudget, now: () => number) {
    const gauge = (name: string, help: string): Gauge<Labels> =>
      new Gauge({ name, help, labelNames: ['project', 'task'], registers: [registry] });
    this.videoFps = gauge('livestats_carousel_video_fps', 'Video frames in the newest stored second of a carousel task');
    this.videoKbps = gauge('livestats_carousel_video_kbps', 'Video kilobits in the newest stored second of a carousel task');
    this.audioFps = gauge('livestats_carousel_audio_fps', 'Audio (AAC) frames in the newest stored second of a carousel task');
    this.audioKbps = gauge('livestats_carousel_audio_kbps', 'Audio kilobits in the newest stored second of a carousel task');
    const latest = this.latest;
    new Gauge({
      name: 'livestats_carousel_sample_age_seconds',
      help: 'Seconds since the start of the newest stored second of a carousel task',
      labelNames: ['project', 'task'],
      registers: [registry],
      collect(this: Gauge<Labels>) {
        const t = now();
        for (const l of latest.values()) this.set({ project: l.project, task: l.task }, Math.max(0, (t - l.second) / 1000));
      },
    });
  }

  /** Takes the newest second per task of a committed batch. */
  committed(samples: readonly SampleRow[]): void {
    for (const s of samples) {
      const key = `${s.project}\u0000${s.taskId}`;
      const cur = this.latest.get(key);
      if (cur !== undefined && cur.second > s.second) continue;
      if (cur === undefined && this.budget.label(s.project, s.taskId) === OTHER) continue;
      const l: Latest = { project: s.project, task: s.taskId, second: s.second, videoFps: s.videoFps, videoKbps: s.videoKbps, audioFps: s.audioFps, audioKbps: s.audioKbps };
      this.latest.set(key, l);
      const labels = { project: l.project, task: l.task };
      this.videoFps.set(labels, l.videoFps);
      this.videoKbps.set(labels, l.videoKbps);
      this.audioFps.set(labels, l.audioFps);
      this.audioKbps.set(labels, l.audioKbps);
    }
  }
}
