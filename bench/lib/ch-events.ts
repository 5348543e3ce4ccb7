// clickhouse-server's own counters (system.events) around a benchmark load: how many SELECTs it ran and what they
// read, without system.query_log (whose logging costs every query, so the loads run with it off;
// test/harness/clickhouse.ts setQueryLog). 18.16 has no SelectedRows: marks (8,192 rows each at most) stand for them.

/** The counters read (absent from system.events until they first move: 0). */
const EVENTS = ['SelectQuery', 'SelectedParts', 'SelectedMarks', 'RealTimeMicroseconds'] as const;
export type ChEvents = Record<(typeof EVENTS)[number], number>;

/** The counters now, by `sql` (one statement over HTTP, TabSeparated answer): itself one SelectQuery. */
export async function readChEvents(sql: (query: string) => Promise<string>): Promise<ChEvents> {
  const out: ChEvents = { SelectQuery: 0, SelectedParts: 0, SelectedMarks: 0, RealTimeMicroseconds: 0 };
  const text = await sql(`SELECT event, value FROM system.events WHERE event IN (${EVENTS.map((e) => `'${e}'`).join(', ')}) FORMAT TabSeparated`);
  for (const line of text.split('\n')) {
    const [name, value] = line.split('\t');
    if (name !== undefined && value !== undefined && (EVENTS as readonly string[]).includes(name)) out[name as keyof ChEvents] = Number(value);
  }
  return out;
}

/** What clickhouse-server's SELECTs did between two readings. */
export interface ChSelects {
  /** SELECTs started (the later reading itself not counted). */
  selects: number;
  /** Per SELECT, means: marks selected to read, parts selected, thread time (ms; one thread per stamps read). */
  marks: number;
  parts: number;
  threadMs: number;
}

/**
 * `after` - `before` per SELECT; `after`'s own reading is taken out of the count. Every SELECT counts, the server's own
 * periodic ones (a few a minute) too: system.events cannot tell them apart, as the query log could.
 */
export function chSelects(before: ChEvents, after: ChEvents): ChSelects {
  const selects = Math.max(0, after.SelectQuery - before.SelectQuery - 1);
  const per = (k: keyof ChEvents): number => (selects > 0 ? (after[k] - before[k]) / selects : 0);
  return { selects, marks: per('SelectedMarks'), parts: per('SelectedParts'), threadMs: per('RealTimeMicroseconds') / 1000 };
}
