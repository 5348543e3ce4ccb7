// The X-Batch-Id check of an access-log POST runs while its body is parsed (issue 24: one store
// round trip less before the acknowledgement). claimAlongside is that claim: the same outcomes as
// BatchLedger.claim, and a request whose parse fails releases the id it reserved, so a retry of the
// id is not held as 'pending' by a batch that was never fed. Real SQLite store, real ledger.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { claimAlongside } from '../src/api/routes/ingest-access-logs.js';
import { BatchLedger } from '../src/ingest/batch-ids.js';
import { deadlineIn } from '../src/ingest/deadline.js';
import { SqliteStore } from '../src/store/sqlite/store.js';

let dir: string;
let store: SqliteStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'livestats-claim-'));
  store = new SqliteStore(join(dir, 'livestats.db'));
  await store.init();
});
afterEach(async () => {
  await store.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

const deadline = (): ReturnType<typeof deadlineIn> => deadlineIn(60_000);

it('without an X-Batch-Id the claim is new at once and abandoning it does nothing', async () => {
  const ledger = new BatchLedger(store);
  const c = claimAlongside(ledger, undefined, deadline());
  c.abandon();
  expect(await c.claim).toEqual({ state: 'new' });
  expect(ledger.size).toBe(0);
});

it('a claim started alongside the parse reserves the id like BatchLedger.claim; a second one is pending', async () => {
  const ledger = new BatchLedger(store);
  const c = claimAlongside(ledger, 'p\u0000b1', deadline());
  expect(await c.claim).toEqual({ state: 'new' });
  expect((await ledger.claim('p\u0000b1', deadline())).state).toBe('pending');
});

it('a parse that failed releases the id the claim reserved: a retry of the id is new, not pending', async () => {
  const ledger = new BatchLedger(store);
  const c = claimAlongside(ledger, 'p\u0000b2', deadline());
  // The parse fails before the store check has answered: abandon() runs first.
  c.abandon();
  expect(await c.claim).toEqual({ state: 'new' });
  // The release follows the claim's outcome: wait until the id is free (no fixed sleep).
  const until = Date.now() + 60_000;
  while (ledger.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  expect(ledger.size).toBe(0);
  expect(await ledger.claim('p\u0000b2', deadline())).toEqual({ state: 'new' });
});

it('an id already committed in the store is committed, and abandoning it releases nothing', async () => {
  await store.write({ id: 'w1', counts: [], samples: [], tasks: [], checkpoints: [{ key: 'p\u0000b3', value: '{"accepted":1}' }] });
  const ledger = new BatchLedger(store);
  const pending = claimAlongside(ledger, 'p\u0000b4', deadline());
  expect(await pending.claim).toEqual({ state: 'new' });
  const c = claimAlongside(ledger, 'p\u0000b3', deadline());
  c.abandon();
  expect(await c.claim).toEqual({ state: 'committed' });
  // Another id's reservation is untouched by that abandon.
  expect((await ledger.claim('p\u0000b4', deadline())).state).toBe('pending');
});

it('a store check that fails while the parse fails is no unhandled rejection; the caller still sees the failure', async () => {
  const ledger = new BatchLedger(store);
  await store.close();
  const c = claimAlongside(ledger, 'p\u0000b5', deadline());
  c.abandon();
  await expect(c.claim).rejects.toThrow();
  expect(ledger.size).toBe(0);
});
