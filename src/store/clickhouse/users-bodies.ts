import { renderUsers } from '../../contract/audience/users-body.js';
import type { UsersBodyReply, UsersBodyRequest } from './users-body-worker.js';
import { BlockWorker, blockWorkerUrl, RenderedBodies } from './worker-host.js';
import { assembleUsers, slotsLeft, type UsersPart, type UsersSlots } from './users-parts.js';

export type { UsersSlots } from './users-parts.js';

/**
 * Slots an answer put together on this thread renders at most beside the parts it copies (users-parts.ts; ~25 ns each:
 * ~75 µs); more go to a worker. Two partial days at 60 s (the edges of 7 d or 31 d ending inside a day) are 1,440 together.
 */
const HERE_SLOTS = 3000;

/**
 * Sent bodies' buffers kept to be rendered into again (~0.4 MB each for 7 d at 60 s, up to ~2.3 MB for 31 d at 60 s: 6.4 to
 * ~36 MB at most, and as much again for the assembled bodies' own, `hereSpares`). Every answer is handed to a
 * worker at once (no queue here), so as many buffers are out as answers are in flight (10 connections of the dense
 * bench: up to 10); with 4 kept, the answers beyond them were rendered into a fresh ~0.4 MB buffer in the worker
 * (seen in its CPU profile) and a sent one was dropped here for the GC.
 */
const USERS_SPARES = 16;

/**
 * Rendered series kept to be filled again by the next answers of the same length (7 d at 60 s: 80 KB; 31 d at 300 s:
 * 71 KB). An answer made a fresh one before (a new ArrayBuffer on the main thread per answer); with 10 answers in flight
 * at once, as many are out.
 */
const SERIES_SPARES = 16;

/**
 * The ClickHouse store's ListUsersOfStream bodies rendered off the main thread: a small pool of worker
 * threads (users-body-worker.ts) each given the answer's slot series (copied; 7 d at 60 s is 80 KB) and
 * answering its bytes (renderUsers: the SQLite store's bytes), with the buffers of sent bodies going back
 * to be rendered into again (worker-host.ts RenderedBodies). An answer goes to the worker with the fewest
 * answers in flight. Without a worker script (sources run before a build) or when a worker fails, the
 * body is rendered on this thread (counted in `stats.here`): the same bytes.
 */
export class UsersBodies {
  private readonly pool: Array<{ worker: BlockWorker<UsersBodyRequest, UsersBodyReply>; busy: number }> = [];
  private readonly bodies = new RenderedBodies(USERS_SPARES);
  private readonly spareSeries: Float64Array[] = [];
  /**
   * Bodies put together on this thread (assemble) not sent yet, by view (a body's buffer is the one of an earlier body: a
   * second release of that one must not give it back while this one is out), and the buffers of those sent, to be written into again.
   */
  private readonly assembled = new WeakSet<Uint8Array>();
  private readonly hereSpares: ArrayBuffer[] = [];
  private closed = false;
  /**
   * Bodies rendered by a worker / on this thread, the worker's answers that were sent a spare buffer, and the bodies put
   * together on this thread from rendered parts (`assembled`; tests and the bench read them).
   */
  readonly stats = { workers: 0, here: 0, spares: 0, assembled: 0 };
  /** Series handed out by `series`: made new / a kept one filled with zeros again (tests read them). */
  readonly seriesStats = { made: 0, reused: 0 };

  /**
   * `workers`: threads at most (started at their first answer); `url`: the worker script (default: users-body-worker.js beside
   * this module; null: none); `nice`: the threads' nice value (HourBlocksOptions.threadNice).
   */
  constructor(workers = 2, url: URL | null = blockWorkerUrl('users-body-worker.js') ?? null, nice?: number) {
    if (!url) return;
    for (let i = 0; i < Math.max(1, Math.floor(workers)); i++) {
      this.pool.push({ worker: new BlockWorker<UsersBodyRequest, UsersBodyReply>(url, () => undefined, nice), busy: 0 });
    }
  }

  /** The body of `values` (slot i's viewers) over `slots`; give it back with release once sent. */
  async render(slots: UsersSlots, values: Float64Array): Promise<Uint8Array> {
    const w = this.closed ? undefined : this.pool.reduce<(typeof this.pool)[number] | undefined>((a, b) => (a === undefined || b.busy < a.busy ? b : a), undefined);
    if (w) {
      // The series is copied to the worker (not transferred): a failed worker leaves it here to render.
      const m: UsersBodyRequest = { type: 'users', slotMs: slots.slotMs, from: slots.from, to: slots.to, values };
      const transfer: ArrayBuffer[] = [];
      const spare = this.bodies.take();
      if (spare) {
        m.spare = spare;
        transfer.push(spare);
        this.stats.spares++;
      }
      w.busy++;
      try {
        const reply = await w.worker.call(m, transfer);
        if ('body' in reply) {
          this.stats.workers++;
          this.bodies.add(reply.body);
          return reply.body;
        }
      } catch {
        // Rendered here below.
      } finally {
        w.busy--;
      }
    }
    this.stats.here++;
    return renderUsers({ slots: { ...slots, count: values.length } }, values);
  }

  /**
   * The body of `values` over `slots` when `parts` (runs of its slots rendered before: closed days' entries, audience-blocks.ts)
   * leave at most HERE_SLOTS slots to render: put together here (users-parts.ts; no worker hop, the parts copied, not
   * rendered again) into a sent body's buffer when one is big enough; else undefined (render it). Give it back with release
   * once sent.
   */
  assemble(slots: UsersSlots, values: Float64Array, parts: readonly UsersPart[]): Uint8Array | undefined {
    if (parts.length === 0 || slotsLeft(values.length, parts) > HERE_SLOTS) return undefined;
    const body = assembleUsers(slots, values, parts, (bytes) => {
      const spare = this.hereSpares.pop();
      // A smaller one (another answer's) is let go; a new one has room for bodies a little longer (more digits).
      return spare !== undefined && spare.byteLength >= bytes ? spare : new ArrayBuffer(bytes + (bytes >> 3));
    });
    this.assembled.add(body);
    this.stats.assembled++;
    return body;
  }

  /**
   * A series of `n` slots, every one 0, for an answer to be rendered (the caller fills it, renders it, then gives it back
   * with keepSeries): a kept one of that length when there is, else a new one.
   */
  series(n: number): Float64Array {
    const i = this.spareSeries.findIndex((v) => v.length === n);
    if (i < 0) {
      this.seriesStats.made++;
      return new Float64Array(n);
    }
    const v = this.spareSeries[i] as Float64Array;
    this.spareSeries[i] = this.spareSeries[this.spareSeries.length - 1] as Float64Array;
    this.spareSeries.pop();
    this.seriesStats.reused++;
    return v.fill(0);
  }

  /** A series whose answer has been rendered (render returned): nothing reads it any more, it is filled again by a later answer. */
  keepSeries(values: Float64Array): void {
    if (this.closed || values.byteOffset !== 0 || values.buffer.byteLength !== values.byteLength) return;
    // Full: the oldest kept goes (lengths nobody asks for any more must not keep the common ones from being kept).
    if (this.spareSeries.length >= SERIES_SPARES) this.spareSeries.shift();
    this.spareSeries.push(values);
  }

  /**
   * A body from render or assemble has been sent whole: its buffer is written into again (other bodies are left alone). A
   * worker's is moved (transferred to it with a later answer: RenderedBodies); one put together here stays as it is, kept
   * for a later answer put together here: it never leaves this thread, nothing reads a body once sent, and a move would make
   * a new ArrayBuffer over the memory per answer (which V8 may count as external memory allocated anew). This and the edges
   * rendered into given-back memory, measured together: users 7 d's main-thread GC 14.5 -> 8.8 µs per answer.
   */
  release(bytes: Uint8Array): void {
    if (this.closed) return;
    if (!this.assembled.delete(bytes)) {
      this.bodies.release(bytes);
      return;
    }
    if (this.hereSpares.length >= USERS_SPARES) this.hereSpares.shift();
    this.hereSpares.push(bytes.buffer as ArrayBuffer);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.bodies.clear();
    this.hereSpares.length = 0;
    this.spareSeries.length = 0;
    await Promise.all(this.pool.map((w) => w.worker.close()));
  }
}
