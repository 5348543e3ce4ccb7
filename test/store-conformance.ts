import { afterEach, describe, expect, it } from 'vitest';
import type { Isp, Region } from '../src/contract/values.js';
import type { CodeCount, CountRow, HttpCodesFilter, SampleRow, Store, WriteBatch } from '../src/store/types.js';

/**
 * Every store behaviour the API and ingest rely on, run unchanged against each backend.
 * `open` returns a fresh, initialised, empty store; the suite closes it after each test.
 */
export type OpenStore = () => Promise<Store>;

const MIN = 60_000;
const DAY = 86_400_000;
/** 2026-11-20T00:00:00Z, a UTC day boundary. */
const T0 = Date.UTC(2026, 10, 20);
let seq = 0;

export function batch(parts: Partial<Omit<WriteBatch, 'id'>>): WriteBatch {
  return { id: `b-${process.pid}-${++seq}`, counts: [], samples: [], tasks: [], checkpoints: [], ...parts };
}

export function cell(minute: number, code: number, count: number, more: Partial<CountRow> = {}): CountRow {
  return { project: 'p1', domain: 'a.example.com', minute, region: 'GD' as Region, isp: 'CTCC' as Isp, code, count, ...more };
}

export function sample(second: number, v: number, more: Partial<SampleRow> = {}): SampleRow {
  return { project: 'p1', taskId: 'task-1', second, videoFps: v, videoKbps: v * 10, audioFps: v + 1, audioKbps: v * 2, ...more };
}

const sorted = (rows: CodeCount[]): CodeCount[] =>
  [...rows].sort((a, b) => a.minute - b.minute || a.code - b.code);

function filter(more: Partial<HttpCodesFilter> = {}): HttpCodesFilter {
  return { project: 'p1', domains: ['a.example.com'], regions: [], isps: [], fromMinute: T0, toMinute: T0 + 60 * MIN, ...more };
}

export function runStoreConformance(name: string, open: OpenStore): void {
  describe(`store conformance: ${name}`, () => {
    let store: Store | undefined;
    const fresh = async (): Promise<Store> => (store = await open());
    afterEach(async () => {
      await store?.close();
      store = undefined;
    });

    it('adds counts of the same cell across batches and within one', async () => {
      const s = await fresh();
      await s.write(batch({ counts: [cell(T0, 200, 3), cell(T0, 404, 1), cell(T0 + MIN, 200, 2)] }));
      await s.write(batch({ counts: [cell(T0, 200, 4), cell(T0, 200, 1, { region: 'BJ' })] }));
      expect(sorted(await s.queryHttpCodes(filter()))).toEqual([
        { minute: T0, code: 200, count: 8 }, { minute: T0, code: 404, count: 1 }, { minute: T0 + MIN, code: 200, count: 2 },
      ]);
    });

    it('sums over the requested domains only and returns every code (no code filter)', async () => {
      const s = await fresh();
      await s.write(batch({ counts: [
        cell(T0, 200, 1), cell(T0, 200, 10, { domain: 'b.example.com' }), cell(T0, 302, 5, { domain: 'c.example.com' }),
        cell(T0, 503, 2, { domain: 'b.example.com' }),
      ] }));
      expect(sorted(await s.queryHttpCodes(filter({ domains: ['a.example.com', 'b.example.com'] })))).toEqual([
        { minute: T0, code: 200, count: 11 }, { minute: T0, code: 503, count: 2 },
      ]);
      expect(await s.queryHttpCodes(filter({ domains: ['unknown.example.com'] }))).toEqual([]);
      expect(await s.queryHttpCodes(filter({ domains: [] }))).toEqual([]);
    });

    it('filters by regions and isps, alone and together', async () => {
      const s = await fresh();
      await s.write(batch({ counts: [
        cell(T0, 200, 1, { region: 'GD', isp: 'CTCC' }), cell(T0, 200, 2, { region: 'GD', isp: 'CMCC' }),
        cell(T0, 200, 4, { region: 'BJ', isp: 'CTCC' }), cell(T0, 404, 8, { region: 'SH', isp: 'OTHER' }),
      ] }));
      const q = async (regions: Region[], isps: Isp[]): Promise<CodeCount[]> => sorted(await s.queryHttpCodes(filter({ regions, isps })));
      expect(await q(['GD'], [])).toEqual([{ minute: T0, code: 200, count: 3 }]);
      expect(await q([], ['CTCC'])).toEqual([{ minute: T0, code: 200, count: 5 }]);
      expect(await q(['GD', 'SH'], ['CMCC', 'OTHER'])).toEqual([{ minute: T0, code: 200, count: 2 }, { minute: T0, code: 404, count: 8 }]);
      expect(await q(['HK'], [])).toEqual([]);
      expect(await q([], [])).toEqual([{ minute: T0, code: 200, count: 7 }, { minute: T0, code: 404, count: 8 }]);
    });

    it('treats the minute window as half-open [from, to)', async () => {
      const s = await fresh();
      await s.write(batch({ counts: [cell(T0 - MIN, 200, 1), cell(T0, 200, 2), cell(T0 + 2 * MIN, 200, 3), cell(T0 + 3 * MIN, 200, 4)] }));
      expect(sorted(await s.queryHttpCodes(filter({ fromMinute: T0, toMinute: T0 + 3 * MIN })))).toEqual([
        { minute: T0, code: 200, count: 2 }, { minute: T0 + 2 * MIN, code: 200, count: 3 },
      ]);
      expect(await s.queryHttpCodes(filter({ fromMinute: T0, toMinute: T0 }))).toEqual([]);
    });

    it('accepts late data for old minutes and across a day boundary', async () => {
      const s = await fresh();
      await s.write(batch({ counts: [cell(T0 + 10 * MIN, 200, 1)] }));
      await s.write(batch({ counts: [cell(T0 - MIN, 500, 2), cell(T0 + 10 * MIN, 200, 5), cell(T0 - DAY, 200, 7)] }));
      expect(sorted(await s.queryHttpCodes(filter({ fromMinute: T0 - DAY, toMinute: T0 + DAY })))).toEqual([
        { minute: T0 - DAY, code: 200, count: 7 }, { minute: T0 - MIN, code: 500, count: 2 }, { minute: T0 + 10 * MIN, code: 200, count: 6 },
      ]);
    });

    it('isolates projects', async () => {
      const s = await fresh();
      await s.write(batch({
        counts: [cell(T0, 200, 1), cell(T0, 200, 100, { project: 'p2' })],
        samples: [sample(T0, 5), sample(T0, 9, { project: 'p2' })],
      }));
      expect(await s.queryHttpCodes(filter())).toEqual([{ minute: T0, code: 200, count: 1 }]);
      expect(await s.queryHttpCodes(filter({ project: 'p3' }))).toEqual([]);
      expect((await s.querySamples({ project: 'p1', taskId: 'task-1', from: T0, to: T0 + 1000 }))[0]?.videoFps).toBe(5);
      expect(await s.taskExists('p3', 'task-1')).toBe(false);
      expect((await s.listTasks('p2')).map((t) => t.taskId)).toEqual(['task-1']);
    });

    it('keeps hostile strings exact (quotes, backslashes, NUL, non-ASCII)', async () => {
      const s = await fresh();
      const project = "p'\\\u0000x";
      const domain = "d'); DROP TABLE x; --\\\u0000é中.example";
      await s.write(batch({
        counts: [cell(T0, 200, 3, { project, domain })],
        samples: [sample(T0, 4, { project, taskId: "t'\\\u0000" })],
        checkpoints: [{ key: "k'\\\u0000", value: "v'\\\u0000\n😀" }],
      }));
      expect(await s.queryHttpCodes(filter({ project, domains: [domain] }))).toEqual([{ minute: T0, code: 200, count: 3 }]);
      expect(await s.queryHttpCodes(filter({ project, domains: [domain.slice(0, -1)] }))).toEqual([]);
      expect(await s.taskExists(project, "t'\\\u0000")).toBe(true);
      expect(await s.getCheckpoint("k'\\\u0000")).toBe("v'\\\u0000\n😀");
    });

    it('replaces a sample of the same second and returns samples in order within [from, to)', async () => {
      const s = await fresh();
      await s.write(batch({ samples: [sample(T0 + 1000, 1), sample(T0 + 2500, 2), sample(T0 + 3000, 3)] }));
      await s.write(batch({ samples: [sample(T0 + 2000, 20), sample(T0, 10)] }));
      const got = await s.querySamples({ project: 'p1', taskId: 'task-1', from: T0, to: T0 + 3000 });
      expect(got).toEqual([
        { second: T0, videoFps: 10, videoKbps: 100, audioFps: 11, audioKbps: 20 },
        { second: T0 + 1000, videoFps: 1, videoKbps: 10, audioFps: 2, audioKbps: 2 },
        { second: T0 + 2000, videoFps: 20, videoKbps: 200, audioFps: 21, audioKbps: 40 },
      ]);
      expect(await s.querySamples({ project: 'p1', taskId: 'other', from: T0, to: T0 + 3000 })).toEqual([]);
    });

    it('keeps the later of two samples of one second in one batch, also after they are written again', async () => {
      const s = await fresh();
      // Three of second T0 and two of T0 + 1 s (the second ones 1.5 s and 1.9 s): the last of each wins.
      const rows = [sample(T0, 7), sample(T0 + 1500, 30), sample(T0, 3), sample(T0 + 1900, 2), sample(T0, 5)];
      const want = [
        { second: T0, videoFps: 5, videoKbps: 50, audioFps: 6, audioKbps: 10 },
        { second: T0 + 1000, videoFps: 2, videoKbps: 20, audioFps: 3, audioKbps: 4 },
      ];
      const f = { project: 'p1', taskId: 'task-1', from: T0, to: T0 + 2000 };
      await s.write(batch({ samples: rows }));
      expect(await s.querySamples(f)).toEqual(want);
      await s.write(batch({ samples: rows }));
      expect(await s.querySamples(f)).toEqual(want);
    });

    it('registers tasks with or without samples and reports their newest sample', async () => {
      const s = await fresh();
      expect(await s.taskExists('p1', 'task-1')).toBe(false);
      const before = Date.now();
      await s.write(batch({ tasks: [{ project: 'p1', taskId: 'task-0' }] }));
      await s.write(batch({ samples: [sample(T0 + 5000, 1), sample(T0 + 2000, 1)] }));
      await s.write(batch({ samples: [sample(T0 + 1000, 1)], tasks: [{ project: 'p1', taskId: 'task-1' }] }));
      const after = Date.now();
      expect(await s.taskExists('p1', 'task-0')).toBe(true);
      expect(await s.taskExists('p1', 'task-1')).toBe(true);
      const tasks = await s.listTasks('p1');
      expect(tasks.map((t) => [t.taskId, t.lastSampleAt])).toEqual([['task-0', null], ['task-1', T0 + 5000]]);
      for (const t of tasks) expect(t.createdAt >= before - 1000 && t.createdAt <= after + 1000).toBe(true);
      expect(await s.listTasks('p2')).toEqual([]);
    });

    it('overwrites checkpoints and meta values', async () => {
      const s = await fresh();
      expect(await s.getCheckpoint('file:/var/log/a')).toBeUndefined();
      await s.write(batch({ checkpoints: [{ key: 'file:/var/log/a', value: '100' }, { key: 'file:/var/log/b', value: '7' }] }));
      await s.write(batch({ counts: [cell(T0, 200, 1)], checkpoints: [{ key: 'file:/var/log/a', value: '250' }] }));
      expect(await s.getCheckpoint('file:/var/log/a')).toBe('250');
      expect(await s.getCheckpoint('file:/var/log/b')).toBe('7');
      expect(await s.getMeta('m')).toBeUndefined();
      await s.setMeta('m', 'one');
      await s.setMeta('m', 'two');
      expect(await s.getMeta('m')).toBe('two');
    });

    it('deletes counts and samples before a day-aligned cutoff and keeps the rest', async () => {
      const s = await fresh();
      await s.write(batch({
        counts: [cell(T0 - 2 * DAY, 200, 1), cell(T0 - MIN, 200, 2), cell(T0, 200, 3), cell(T0 + DAY, 200, 4)],
        samples: [sample(T0 - DAY, 1), sample(T0 - 1000, 2), sample(T0, 3)],
      }));
      await s.deleteBefore(T0);
      expect(sorted(await s.queryHttpCodes(filter({ fromMinute: T0 - 3 * DAY, toMinute: T0 + 2 * DAY })))).toEqual([
        { minute: T0, code: 200, count: 3 }, { minute: T0 + DAY, code: 200, count: 4 },
      ]);
      expect((await s.querySamples({ project: 'p1', taskId: 'task-1', from: T0 - 2 * DAY, to: T0 + DAY })).map((x) => x.second))
        .toEqual([T0]);
      expect(await s.taskExists('p1', 'task-1')).toBe(true);
    });

    it('writes a batch larger than one insert chunk completely', async () => {
      const s = await fresh();
      const counts: CountRow[] = [];
      for (let i = 0; i < 25_000; i++) counts.push(cell(T0 + (i % 1440) * MIN, 200 + (i % 300), 1, { domain: `d${i % 7}.example` }));
      await s.write(batch({ counts }));
      const domains = Array.from({ length: 7 }, (_, i) => `d${i}.example`);
      const rows = await s.queryHttpCodes(filter({ domains, toMinute: T0 + DAY }));
      expect(rows.reduce((n, r) => n + r.count, 0)).toBe(25_000);
    });

    it('can be initialised again without losing data', async () => {
      const s = await fresh();
      await s.write(batch({ counts: [cell(T0, 200, 1)] }));
      await s.init();
      expect(await s.queryHttpCodes(filter())).toEqual([{ minute: T0, code: 200, count: 1 }]);
    });
  });
}
