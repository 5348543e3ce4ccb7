import { describe, expect, it } from 'vitest';
import type { CountRow } from '../types.js';
import { insertText } from './sql.js';
import { chunkCounts, countsInsert, keyValueInsert, markersQueries, samplesInserts, slices, taskTouches, tasksInsert } from './batch.js';

const T0 = Date.UTC(2026, 10, 20);
const DAY_MIN = 1440;
const row = (minute: number, domain = 'a.com', project = 'p'): CountRow => ({
  project, domain, minute, region: 'GD', isp: 'CMCC', code: 200, count: 2,
});

describe('chunkCounts', () => {
  it('cuts rows into deterministic chunks grouped by (project, domain, UTC day)', () => {
    const rows = [row(T0), row(T0 + 60_000), row(T0 - 60_000), row(T0, 'b.com'), row(T0, 'a.com', 'q')];
    const chunks = chunkCounts('B', rows, 3);
    expect(chunks.map((c) => c.tag)).toEqual(['B#0', 'B#1']);
    const day = Math.floor(T0 / 60_000 / DAY_MIN) * DAY_MIN;
    expect(chunks[0]?.groups.map((g) => [g.project, g.domain, g.markerMinute, g.rows.length])).toEqual([
      ['p', 'a.com', day, 2], ['p', 'a.com', day - DAY_MIN, 1],
    ]);
    expect(chunks[1]?.groups.map((g) => [g.domain, g.project])).toEqual([['b.com', 'p'], ['a.com', 'q']]);
    expect(chunkCounts('B', rows, 3)).toEqual(chunks);
    expect(chunkCounts('B', [])).toEqual([]);
  });
});

describe('statement builders', () => {
  it('writes data rows with an empty batch tag plus one marker per group', () => {
    const [chunk] = chunkCounts('id', [row(T0), row(T0 + 60_000)]);
    if (!chunk) throw new Error('no chunk');
    const sql = insertText(countsInsert('`db`.`http_counts`', chunk, chunk.groups));
    const m = T0 / 60_000;
    expect(sql).toBe(
      'INSERT INTO `db`.`http_counts` (project, domain, minute, region, isp, code, batch, count, markers, bytes) FORMAT TabSeparated\n' +
      `p\ta.com\t${m}\tGD\tCMCC\t200\t\t2\t0\t0\np\ta.com\t${m + 1}\tGD\tCMCC\t200\t\t2\t0\t0\n` +
      `p\ta.com\t${m}\t\t\t0\tid#0\t0\t1\t0\n`,
    );
    const [withBytes] = chunkCounts('id', [{ ...row(T0), bytes: 1234.4 }, { ...row(T0 + 60_000), bytes: -5 }]);
    expect(insertText(countsInsert('t', withBytes as typeof chunk, (withBytes as typeof chunk).groups))).toContain(
      `p\ta.com\t${m}\tGD\tCMCC\t200\t\t2\t0\t1234\np\ta.com\t${m + 1}\tGD\tCMCC\t200\t\t2\t0\t0\n`,
    );
    // Names are escaped as quote() escapes them, without the quotes: no byte can end a field or a row.
    const [hostile] = chunkCounts("id'\t", [row(T0, 'a\tb\nc\\d\'e\u00e9')]);
    expect(insertText(countsInsert('t', hostile as typeof chunk, (hostile as typeof chunk).groups)).split('\n').slice(1, -1)).toEqual([
      `p\ta\\x09b\\x0ac\\\\d\\'e\\xc3\\xa9\t${m}\tGD\tCMCC\t200\t\t2\t0\t0`,
      `p\ta\\x09b\\x0ac\\\\d\\'e\\xc3\\xa9\t${m}\t\t\t0\tid\\'\\x09#0\t0\t1\t0`,
    ]);
    const [q] = markersQueries('t', [chunk]);
    expect(q).toContain(`(project, domain, minute) IN (('p', 'a.com', ${m}))`);
    expect(q).toContain("batch IN ('id#0')");
  });
  it('escapes every value and clamps sample values to UInt32', () => {
    const [sql] = samplesInserts('t', [{ project: "p'", taskId: 't\\', second: 1500, videoFps: -3, videoKbps: 1e12, audioFps: 2.6, audioKbps: 1 }], 9n);
    expect(sql).toBe("INSERT INTO t (project, task_id, second, version, video_fps, video_kbps, audio_fps, audio_kbps) VALUES ('p\\'', 't\\\\', 1, 9, 0, 4294967295, 3, 1)");
    expect(tasksInsert('t', [{ project: 'p', taskId: "x'", createdAt: 5, lastSample: 0 }])).toBe(
      "INSERT INTO t (project, task_id, created_at, last_sample) VALUES ('p', 'x\\'', 5, 0)",
    );
    expect(keyValueInsert('t', [{ key: 'k\u0000', value: 'v' }], 3n)).toBe("INSERT INTO t (key, value, version) VALUES ('k\\x00', 'v', 3)");
  });
  it('splits large sample sets into several inserts', () => {
    const samples = Array.from({ length: 45_000 }, (_, i) => ({ project: 'p', taskId: 't', second: i * 1000, videoFps: 1, videoKbps: 1, audioFps: 1, audioKbps: 1 }));
    expect(samplesInserts('t', samples, 1n)).toHaveLength(3);
  });
  it('writes one row per second of a task and key of a batch (the later one: they share the version)', () => {
    const row = (taskId: string, second: number, v: number) => ({ project: 'p', taskId, second, videoFps: v, videoKbps: v, audioFps: v, audioKbps: v });
    const [sql] = samplesInserts('t', [row('t', 1000, 1), row('u', 1000, 2), row('t', 1999, 3)], 9n);
    expect(sql).toBe('INSERT INTO t (project, task_id, second, version, video_fps, video_kbps, audio_fps, audio_kbps) VALUES '
      + "('p', 'u', 1, 9, 2, 2, 2, 2), ('p', 't', 1, 9, 3, 3, 3, 3)");
    expect(keyValueInsert('t', [{ key: 'k', value: 'a' }, { key: 'j', value: 'b' }, { key: 'k', value: 'c' }], 3n))
      .toBe("INSERT INTO t (key, value, version) VALUES ('j', 'b', 3), ('k', 'c', 3)");
  });
});

describe('marker lookups', () => {
  it('stay under max_query_size however many groups a batch has', () => {
    const rows = Array.from({ length: 5_000 }, (_, i) => row(T0, `${'x'.repeat(240)}-${i}.example`, 'p'.repeat(64)));
    const queries = markersQueries('t', chunkCounts('B', rows, 2_000));
    expect(queries).toHaveLength(Math.ceil(5_000 / 300));
    for (const q of queries) expect(q.length).toBeLessThan(200 * 1024);
    expect(slices([1, 2, 3], 2)).toEqual([[1, 2], [3]]);
  });
});

describe('taskTouches', () => {
  it('lists registered and sampled tasks with their newest sample second (0 for none)', () => {
    const s = (taskId: string, second: number) => ({ project: 'p', taskId, second, videoFps: 1, videoKbps: 1, audioFps: 1, audioKbps: 1 });
    const got = taskTouches({
      id: 'x', counts: [], checkpoints: [],
      tasks: [{ project: 'p', taskId: 'a' }, { project: 'p', taskId: 'b' }],
      samples: [s('b', 5_500), s('b', 2_000), s('c', 1_000)],
    });
    expect([...got.values()]).toEqual([
      { project: 'p', taskId: 'a', lastSample: 0 }, { project: 'p', taskId: 'b', lastSample: 5 }, { project: 'p', taskId: 'c', lastSample: 1 },
    ]);
  });
});
