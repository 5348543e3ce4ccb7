import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Aggregator } from '../aggregator.js';
import { addCells, type CellBatch } from '../cells.js';
import { forEachLine, MAX_LINE_BYTES } from '../lines.js';
import type { NameGate } from '../name-limits.js';
import type { LineProcessor } from '../processor.js';
import { createProcessor, type ProcessorSettings } from '../setup.js';
import { decodePosition, encodePosition, HEAD_BYTES, type FollowPosition } from './position.js';

const READ_BYTES = 4 << 20;
const ROTATION_GRACE_MS = 10_000;

export interface FollowerOptions {
  path: string;
  project: string;
  settings: ProcessorSettings;
  aggregator: Aggregator;
  /** Reads the committed checkpoint of a key (the store's). */
  getCheckpoint: (key: string) => Promise<string | undefined>;
  pollMs?: number;
  onError?: (err: unknown) => void;
  /** The project's name caps (src/ingest/name-limits.ts). */
  names?: NameGate;
  /** What happens to the file, for the console: where reading starts, waiting for it, rotation, truncation. */
  onEvent?: (message: string) => void;
  /** A file followed for the first time (no committed position) is read from its end, not its start. */
  fromEnd?: boolean;
}

interface OpenFile {
  fh: FileHandle;
  pos: FollowPosition;
}

/**
 * Follows one file like `tail -F`: reads whole lines from the committed offset, survives
 * rename+create (drains the old file, then opens the new one) and copytruncate (size below the
 * offset, or the first bytes changed). After each read it hands the lines' counts to the
 * aggregator and then the new offset as a checkpoint, so both commit in the same transaction.
 *
 * When the store refuses a write (the aggregator drops everything uncommitted), the follower
 * stops advancing: it feeds nothing more, waits until the store accepts writes again, then
 * resumes from the committed checkpoint, so the refused lines are read and counted once.
 * Lines the store rejected for their data (a data fault, not an outage) would only fail again:
 * the follower resumes past them instead, and counts them in `rejectedLines`.
 */
export class Follower {
  readonly path: string;
  readonly key: string;
  readonly processor: LineProcessor;
  /** The aggregator's refusal count when this follower last synchronised with the store. */
  private epoch: number;
  private rewindPending = false;
  /** Times the follower went back to its committed checkpoint after a refusal. */
  rewinds = 0;
  /** Lines skipped because the store rejected their data. */
  rejectedLines = 0;
  /** Where the newest rejected data of this file ended (its refused checkpoint), with its lines. */
  private skip: { position: FollowPosition; lines: number } | undefined;
  private file: OpenFile | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> | undefined;
  private stopped = false;
  /** When the followed path was first seen pointing at another file than the one open. */
  private rotatedAt: number | undefined;
  /** No committed position was found at start: the first file opened is new to livestats. */
  private fresh = false;
  /** The path was missing at the last poll (reported once until it appears). */
  private missing = false;

  constructor(private readonly options: FollowerOptions) {
    this.path = resolve(options.path);
    this.key = `follow:${this.path}`;
    this.processor = createProcessor(options.settings, (cells) => this.feed(cells), undefined, true, options.names);
    this.epoch = options.aggregator.refusals;
    options.aggregator.onRefused((r) => {
      const mine = r.rejected?.checkpoints.find((c) => c.key === this.key);
      const position = mine ? decodePosition(mine.value) : undefined;
      if (position) this.skip = { position, lines: r.records + (this.skip?.lines ?? 0) };
    });
  }

  /** Opens the file at its committed position (finishing a file rotated while we were down). */
  async start(): Promise<void> {
    await this.resume();
    await this.poll();
    this.timer = setInterval(() => void this.tick(), this.options.pollMs ?? 200);
  }

  /** Counts go to the aggregator only while nothing was refused since the last synchronisation. */
  private feed(cells: CellBatch): void {
    if (this.refusedSinceSync()) return;
    addCells(this.options.aggregator, this.options.project, cells);
  }

  private refusedSinceSync(): boolean {
    if (this.options.aggregator.refusals !== this.epoch) this.rewindPending = true;
    return this.rewindPending;
  }

  /** Positions at the committed checkpoint; what was read past it (and not committed) is forgotten. */
  private async resume(): Promise<void> {
    this.epoch = this.options.aggregator.refusals;
    const saved = decodePosition(await this.options.getCheckpoint(this.key));
    this.fresh = saved === undefined && this.rewinds === 0;
    if (saved) {
      const current = await stat(this.path).catch(() => undefined);
      if (!current || current.ino !== saved.ino || current.dev !== saved.dev) {
        const rotated = await this.findByInode(saved);
        if (rotated) {
          if (this.rewinds === 0) this.event(`${this.path} was rotated while livestats was stopped: finishing ${rotated} from byte ${saved.offset} first`);
          const fh = await open(rotated, 'r');
          this.file = { fh, pos: { ...saved } };
          await this.readAvailable();
          await this.closeFile();
        }
      } else {
        this.file = { fh: await open(this.path, 'r'), pos: { ...saved } };
        if (this.rewinds === 0) this.event(`${this.path}: continuing at byte ${saved.offset}, where an earlier run stopped`);
      }
    }
  }

  /** After a refusal: nothing advances until the store accepts writes and nothing is in doubt. */
  private async rewind(): Promise<boolean> {
    const agg = this.options.aggregator;
    if (!agg.health.ok || agg.stats().pendingBatches > 0) return false;
    await this.closeFile();
    this.processor.cells.drain();
    this.rewindPending = false;
    this.rewinds++;
    await this.resume();
    this.skipRejected();
    return true;
  }

  /** After a rewind: when the store rejected this file's data past the committed position, resumes after it. */
  private skipRejected(): void {
    const skip = this.skip;
    this.skip = undefined;
    const f = this.file;
    if (!skip || !f) return;
    const to = skip.position;
    if (to.ino !== f.pos.ino || to.dev !== f.pos.dev || to.offset <= f.pos.offset) return;
    f.pos = { ...to };
    this.rejectedLines += skip.lines;
    this.options.aggregator.checkpoint(this.key, encodePosition(f.pos), this.options.project);
  }

  /** One poll now (tests and shutdown use it to catch up). */
  async tick(): Promise<void> {
    if (this.busy || this.stopped) return this.busy;
    this.busy = this.poll().catch((err: unknown) => this.options.onError?.(err)).finally(() => {
      this.busy = undefined;
    });
    return this.busy;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.busy;
    await this.closeFile();
  }

  private async poll(): Promise<void> {
    if ((this.rewindPending || this.refusedSinceSync()) && !(await this.rewind())) return;
    const current = await stat(this.path).catch(() => undefined);
    if (this.file) {
      const same = current && current.ino === this.file.pos.ino && current.dev === this.file.pos.dev;
      if (!same) {
        // Renamed away (or deleted): finish it through the open descriptor. The writer may go on
        // writing it until it reopens its log (nginx: on USR1), so switch to the new file only once
        // the old one is quiet, or after ROTATION_GRACE_MS.
        if (this.rotatedAt === undefined) {
          this.event(`${this.path} was rotated (${current ? 'replaced by a new file' : 'renamed or deleted'}): finishing the old file first`);
        }
        this.rotatedAt ??= Date.now();
        const got = await this.readAvailable();
        if (!current || (got > 0 && Date.now() - this.rotatedAt < ROTATION_GRACE_MS)) return;
        const read = this.file.pos.offset;
        await this.closeFile();
        this.event(`${this.path}: the old file is finished (read up to byte ${read}); reading the new ${this.path}`);
      }
    }
    if (!this.file) {
      if (!current || !current.isFile()) {
        if (!this.missing) this.event(`${this.path} does not exist${current ? ' as a regular file' : ''} yet: waiting for it to appear (like tail -F)`);
        this.missing = true;
        return;
      }
      const fh = await open(this.path, 'r').catch(() => undefined);
      if (!fh) return;
      const s = await fh.stat();
      this.file = { fh, pos: { dev: s.dev, ino: s.ino, offset: 0, head: '' } };
      if (this.fresh && this.options.fromEnd && !this.missing && s.size > 0) {
        this.file.pos = await endPosition(fh, s.dev, s.ino, s.size);
        this.event(`${this.path}: followed for the first time with --from-end: skipping the ${s.size} bytes already in it, counting new lines`);
      } else if (this.fresh && !this.missing) {
        this.event(`${this.path}: followed for the first time: counting the ${s.size} bytes already in it, then new lines`);
      } else if (this.missing) {
        this.event(`${this.path} appeared: reading it from its start`);
      }
      this.fresh = false;
      this.missing = false;
      this.commit();
    }
    await this.readAvailable();
  }

  /** Reads whole lines up to the end of the file; returns the bytes consumed. */
  private async readAvailable(): Promise<number> {
    const f = this.file;
    if (!f) return 0;
    let consumed = 0;
    for (;;) {
      if (this.rewindPending) return consumed;
      const size = (await f.fh.stat()).size;
      if (size < f.pos.offset || !(await this.headMatches(f))) {
        this.event(`${this.path} was truncated or overwritten in place (copytruncate): reading it from its start`);
        f.pos.offset = 0;
        f.pos.head = '';
        this.commit();
      }
      if (size <= f.pos.offset) return consumed;
      const want = Math.min(READ_BYTES, size - f.pos.offset);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await f.fh.read(buf, 0, want, f.pos.offset);
      if (bytesRead === 0) return consumed;
      const chunk = buf.subarray(0, bytesRead);
      if (f.pos.head === '' && f.pos.offset === 0) f.pos.head = headOf(chunk);
      const nl = chunk.lastIndexOf(10);
      if (nl < 0) {
        if (bytesRead < MAX_LINE_BYTES) return consumed; // a line still being written
        this.processor.stats.lines++;
        this.processor.stats.dropped.parse = (this.processor.stats.dropped.parse ?? 0) + 1;
        f.pos.offset += bytesRead;
        consumed += bytesRead;
        this.commit();
        continue;
      }
      const processor = this.processor;
      processor.refreshClock();
      forEachLine(processor.text(chunk, 0, nl), (line) => processor.process(line));
      f.pos.offset += nl + 1;
      consumed += nl + 1;
      this.commit();
      if (bytesRead < want || nl + 1 < bytesRead) return consumed;
    }
  }

  /** Counts first, then the position: the aggregator commits both in one transaction. */
  private commit(): void {
    if (!this.file || this.refusedSinceSync()) return;
    this.processor.flushCells();
    if (this.rewindPending) return;
    this.options.aggregator.checkpoint(this.key, encodePosition(this.file.pos), this.options.project);
  }

  private async headMatches(f: OpenFile): Promise<boolean> {
    if (f.pos.head === '') return true;
    const n = f.pos.head.length / 2;
    const buf = Buffer.alloc(n);
    const { bytesRead } = await f.fh.read(buf, 0, n, 0);
    return bytesRead === n && buf.toString('hex') === f.pos.head;
  }

  private async findByInode(saved: FollowPosition): Promise<string | undefined> {
    const dir = dirname(this.path);
    const base = basename(this.path);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (!name.startsWith(base) || name === base || name.endsWith('.gz')) continue;
      const s = await stat(join(dir, name)).catch(() => undefined);
      if (s && s.ino === saved.ino && s.dev === saved.dev) return join(dir, name);
    }
    return undefined;
  }

  private event(message: string): void {
    this.options.onEvent?.(message);
  }

  private async closeFile(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    this.rotatedAt = undefined;
    await f?.fh.close().catch(() => undefined);
  }
}

/** The position after the last whole line of a file of `size` bytes, with its fingerprint (--from-end). */
async function endPosition(fh: FileHandle, dev: number, ino: number, size: number): Promise<FollowPosition> {
  const head = Buffer.alloc(Math.min(size, 64 * 1024));
  await fh.read(head, 0, head.length, 0);
  const tail = Buffer.alloc(Math.min(size, MAX_LINE_BYTES));
  const { bytesRead } = await fh.read(tail, 0, tail.length, size - tail.length);
  const nl = tail.subarray(0, bytesRead).lastIndexOf(10);
  const offset = nl < 0 ? 0 : size - tail.length + nl + 1;
  return { dev, ino, offset, head: offset > 0 ? headOf(head) : '' };
}

/** Fingerprint: up to HEAD_BYTES of the first line. */
function headOf(chunk: Buffer): string {
  const nl = chunk.indexOf(10);
  const end = Math.min(HEAD_BYTES, nl < 0 ? chunk.length : nl);
  return nl < 0 && chunk.length < HEAD_BYTES ? '' : chunk.subarray(0, end).toString('hex');
}
