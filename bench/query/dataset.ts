import { REGIONS, type Isp, type Region } from '../../src/contract/values.js';
import type { CountRow, SampleRow, Store } from '../../src/store/types.js';
import { Categorical } from '../../src/demo/random.js';
import { seeded } from '../lib/rng.js';

const MIN = 60_000;
const DAY = 86_400_000;

export interface DatasetSpec {
  project: string;
  days: number;
  domains: number;
  tasks: number;
  seed: number;
}

export const FULL: DatasetSpec = { project: 'bench', days: 7, domains: 100, tasks: 20, seed: 42 };
export const QUICK: DatasetSpec = { project: 'bench', days: 1, domains: 12, tasks: 2, seed: 42 };

export const domainName = (i: number): string => `d${String(i).padStart(3, '0')}.bench.example`;
export const taskName = (i: number): string => `task-${String(i).padStart(2, '0')}`;

// Skewed spreads: a few provinces, one carrier and 200 dominate, the rest form a long tail.
const REGION_W = new Categorical<Region>(REGIONS.map((r, i) => [r, 1 / (i + 1) ** 0.9] as const));
const ISP_W = new Categorical<Isp>([['CMCC', 45], ['CTCC', 30], ['CUCC', 20], ['OTHER', 5]]);
const CODE_W = new Categorical<number>([
  [200, 800], [206, 60], [301, 5], [302, 30], [304, 40], [400, 3], [403, 8], [404, 25], [499, 12], [500, 4], [502, 8], [504, 5],
]);

export interface DatasetStats {
  countRows: number;
  sampleRows: number;
  requests: number;
}

/**
 * Fills `store` through the Store interface: `days` × `domains` of per-minute cells over all
 * provinces × carriers × 12 codes with skewed weights and quiet minutes, plus `tasks` carousel
 * tasks with one sample per second. Ends at `anchor` (minute-aligned).
 */
export async function generateDataset(store: Store, spec: DatasetSpec, anchor: number,
  progress: (msg: string) => void = () => {}): Promise<DatasetStats> {
  const rng = seeded(spec.seed);
  const start = anchor - spec.days * DAY;
  const stats: DatasetStats = { countRows: 0, sampleRows: 0, requests: 0 };
  let batchNo = 0;
  for (let hour = start; hour < anchor; hour += 3_600_000) {
    const counts = new Map<string, CountRow>();
    for (let m = hour; m < hour + 3_600_000; m += MIN) {
      const daily = 0.55 + 0.45 * Math.cos((2 * Math.PI * (((m / 3_600_000 + 8) % 24) - 20.5)) / 24);
      for (let d = 0; d < spec.domains; d++) {
        // Zipf-like popularity: the top domain gets ~60 cells a minute, the tail a few, some minutes none.
        const expected = (60 * daily) / (d + 1) ** 0.85;
        if (expected < 1 && rng() > expected) continue;
        const cells = Math.max(1, Math.round(expected * (0.7 + 0.6 * rng())));
        for (let c = 0; c < cells; c++) {
          const region = REGION_W.sample(rng);
          const isp = ISP_W.sample(rng);
          const code = CODE_W.sample(rng);
          const n = 1 + Math.floor(rng() * rng() * 200);
          const key = `${d}|${m}|${region}|${isp}|${code}`;
          const row = counts.get(key);
          if (row) row.count += n;
          else counts.set(key, { project: spec.project, domain: domainName(d), minute: m, region, isp, code, count: n });
          stats.requests += n;
        }
      }
    }
    const samples: SampleRow[] = [];
    for (let t = 0; t < spec.tasks; t++) {
      for (let s = hour; s < hour + 3_600_000; s += 1000) {
        const down = (s / 1000 + t * 977) % 5400 < 30; // a 30 s outage every 90 min
        samples.push({
          project: spec.project, taskId: taskName(t), second: s,
          videoFps: down ? 0 : 25 + (rng() < 0.05 ? -1 : 0), videoKbps: down ? 0 : 2000 + Math.floor(rng() * 1000),
          audioFps: down ? 0 : 43 + (rng() < 0.07 ? 1 : 0), audioKbps: down ? 0 : 126 + Math.floor(rng() * 5),
        });
      }
    }
    await store.write({ id: `bench-${batchNo++}`, counts: [...counts.values()], samples, tasks: [], checkpoints: [] });
    stats.countRows += counts.size;
    stats.sampleRows += samples.length;
    if (batchNo % 24 === 0) progress(`  generated ${batchNo / 24} of ${spec.days} day(s): ${stats.countRows} count rows, ${stats.sampleRows} samples`);
  }
  return stats;
}
