// A worker thread of the ClickHouse store's users answers (users-bodies.ts; a pool of them): it renders the
// ListUsersOfStream body (renderUsers, the bytes the SQLite store's read workers make) from the slot series the
// main thread sends, so the ~400 KB of JSON per answer (7 d at 60 s: 10,080 entries) are not written on the
// main thread. A body's buffer comes back with a later request (`spare`) and is rendered into again.
import { renderUsers } from '../../contract/audience/users-body.js';
import { giveSpare } from '../../contract/json-bytes.js';
import { serveBlockWorker } from './worker-port.js';

export interface UsersBodyRequest {
  type: 'users';
  id?: number;
  slotMs: number;
  from: number;
  to: number;
  /** Slot i's viewers. */
  values: Float64Array;
  /** A sent answer's buffer given back (transferred), rendered into again instead of fresh memory. */
  spare?: ArrayBuffer;
}

export type UsersBodyReply = { id: number; body: Uint8Array } | { id: number; error: string };

function handle(m: UsersBodyRequest): [UsersBodyReply, ArrayBuffer[]] {
  if (m.spare) giveSpare(m.spare);
  const body = renderUsers({ slots: { slotMs: m.slotMs, from: m.from, to: m.to, count: m.values.length } }, m.values);
  // A view of the renderer's buffer, handed over (transferred, not copied).
  return [{ id: m.id as number, body }, [body.buffer as ArrayBuffer]];
}

serveBlockWorker<UsersBodyRequest>('users-body-worker', handle, () => true);
