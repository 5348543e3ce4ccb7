// A worker thread of the ClickHouse store's hour blocks (hour-blocks.ts; a pool of them). It holds the blocks' cells:
// it parses a build query's TabSeparated rows and sums them into every rollup level, and it answers a
// query from them (adds up the asked groups' cells, and the SQL-read cells the main thread sends, and
// renders the answer's bytes), so neither the summing nor the rendering runs on the main thread.
// The main thread owns which blocks exist (their stamps, ages, the memory budget): every block here
// carries the generation the main thread gave it, and a drop or an answer names the generation it means.
// In a pool of several workers one builds a block (its cells in SharedArrayBuffers) and the others adopt
// it, so every worker holds every block and any of them can answer, with the memory counted once.
import { renderHttpCodes, type HttpCodesColumns } from '../../contract/httpcodes-body.js';
import { giveSpare } from '../../contract/json-bytes.js';
import { sumColumns, type BlockSlice, type ExtraCells } from './hour-answer.js';
import { buildHourCells, hourCellsBytes, ISP_GROUPS, parseBuildRows, type HourCells, type LevelCells, type LevelName } from './hour-cells.js';
import { REGIONS } from '../../contract/values.js';
import { serveBlockWorker } from './worker-port.js';

export type WorkerRequest =
  /**
   * Parse and keep the blocks of `hour`: keys[i] / gens[i] for domain index i + 1 of the build query;
   * `share`: their cells in SharedArrayBuffers, sent back with the reply for the pool's other workers.
   */
  | { type: 'build'; id: number; hour: number; text: string; keys: string[]; gens: number[]; share: boolean }
  /** Keep blocks another worker of the pool built (their cells' memory is shared, not copied). */
  | { type: 'adopt'; keys: string[]; gens: number[]; cells: HourCells[] }
  | { type: 'drop'; blocks: Array<[string, number]> }
  /** codes: the answer's bytes for these codes ([]: every code with a count); null: the columns. */
  | {
    /** The blocks by generation (unique per build), each with the answer slot of its hour's minute 0: typed arrays, transferred (no string per block). */
    type: 'answer'; id: number; gens: Float64Array; bases: Int32Array; level: LevelName; groups: number[];
    fromMinute: number; slots: number; toMinute: number; codes: number[] | null; extra: ExtraCells;
    /** A sent answer's buffer given back (transferred), rendered into again instead of fresh memory. */
    spare?: ArrayBuffer;
  };

export type WorkerReply =
  /** The blocks' sizes in bytes, and (build with `share`) their cells in shared memory. */
  | { id: number; built: number[]; cells?: HourCells[] }
  | { id: number; body: Uint8Array }
  | { id: number; columns: HttpCodesColumns }
  | { id: number; missing: true }
  | { id: number; error: string };

function emptyCells(): HourCells {
  const none = (groups: number): HourCells['all'] => ({ offsets: new Int32Array(groups + 1), minute: new Uint8Array(0), code: new Uint16Array(0), count: new Float64Array(0) });
  return { all: none(1), region: none(REGIONS.length + 1), isp: none(ISP_GROUPS), detail: none((REGIONS.length + 1) * ISP_GROUPS) };
}

/** The current generation of each block key, and the cells of each generation (one per key). */
const genOf = new Map<string, number>();
const cellsOf = new Map<number, HourCells>();

function keep(k: string, gen: number, cells: HourCells): void {
  const old = genOf.get(k);
  if (old !== undefined) cellsOf.delete(old);
  genOf.set(k, gen);
  cellsOf.set(gen, cells);
}

/** A level's cells copied into SharedArrayBuffers: posting them to another worker shares the memory. */
function sharedLevel(l: LevelCells): LevelCells {
  const offsets = new Int32Array(new SharedArrayBuffer(l.offsets.byteLength));
  const minute = new Uint8Array(new SharedArrayBuffer(l.minute.byteLength));
  const code = new Uint16Array(new SharedArrayBuffer(l.code.byteLength));
  const count = new Float64Array(new SharedArrayBuffer(l.count.byteLength));
  offsets.set(l.offsets);
  minute.set(l.minute);
  code.set(l.code);
  count.set(l.count);
  return { offsets, minute, code, count };
}

const shared = (c: HourCells): HourCells => ({ all: sharedLevel(c.all), region: sharedLevel(c.region), isp: sharedLevel(c.isp), detail: sharedLevel(c.detail) });

function handle(m: WorkerRequest): [WorkerReply, ArrayBuffer[]] | undefined {
  if (m.type === 'drop') {
    for (const [k, gen] of m.blocks) {
      if (genOf.get(k) !== gen) continue;
      genOf.delete(k);
      cellsOf.delete(gen);
    }
    return undefined;
  }
  if (m.type === 'adopt') {
    m.keys.forEach((k, i) => keep(k, m.gens[i] as number, m.cells[i] as HourCells));
    return undefined;
  }
  if (m.type === 'build') {
    const rows = parseBuildRows(m.text);
    const all = m.keys.map((k, i) => {
      const r = rows.get(`${i + 1}:${m.hour}`);
      const cells = r ? buildHourCells(r) : emptyCells();
      const kept = m.share ? shared(cells) : cells;
      keep(k, m.gens[i] as number, kept);
      return kept;
    });
    return [{ id: m.id, built: all.map(hourCellsBytes), ...(m.share ? { cells: all } : {}) }, []];
  }
  if (m.spare) giveSpare(m.spare);
  const slices: BlockSlice[] = [];
  for (let i = 0; i < m.gens.length; i++) {
    const cells = cellsOf.get(m.gens[i] as number);
    if (!cells) return [{ id: m.id, missing: true }, []];
    slices.push({ cells: cells[m.level], base: m.bases[i] as number });
  }
  const cols = sumColumns(m.fromMinute, m.slots, slices, m.groups, m.extra);
  if (m.codes === null) return [{ id: m.id, columns: cols }, [cols.codes.buffer as ArrayBuffer, cols.counts.buffer as ArrayBuffer]];
  const body = renderHttpCodes({ codes: m.codes, fromMinute: m.fromMinute, toMinute: m.toMinute }, cols);
  // A view of the renderer's buffer, handed over (transferred, not copied).
  return [{ id: m.id, body }, [body.buffer as ArrayBuffer]];
}

serveBlockWorker<WorkerRequest>('hour-block-worker', handle, (m) => m.type !== 'drop' && m.type !== 'adopt');
