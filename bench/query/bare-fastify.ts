// The floor of an answer through Fastify (issue 21 item 6): a bare Fastify server with livestats' route shape
// (GET /v2/:project_id/stats/..., a query string) sending the identical bytes (read from the file named on
// the command line) with the same content type, in its own process. `--hop`: each answer first makes one round trip to
// a worker thread (a small job posted, a small result posted back), as every livestats read does to its read worker:
// the bare cost of that hop, without a store.
import { readFileSync } from 'node:fs';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import Fastify from 'fastify';

if (!isMainThread) {
  const port = parentPort;
  port?.on('message', (m: { id: number; read: { filter: { day?: string } } }) => {
    port.postMessage({ id: m.id, ok: true, result: { day: m.read.filter.day, flow: 1, users: 2 } });
  });
} else {
  const body = readFileSync(process.argv[2] ?? '');
  const hop = process.argv.includes('--hop');
  const pending = new Map<number, () => void>();
  let nextId = 0;
  const worker = hop ? new Worker(new URL(import.meta.url)) : undefined;
  worker?.on('message', (m: { id: number }) => {
    const done = pending.get(m.id);
    pending.delete(m.id);
    done?.();
  });
  worker?.unref();
  const app = Fastify({ logger: false });
  app.get('/v2/:project_id/stats/*', async (request, reply) => {
    const { project_id: project } = request.params as { project_id: string };
    const { play_domain: domain, time } = request.query as { play_domain?: string; time?: string };
    if (worker) {
      const id = nextId++;
      await new Promise<void>((resolve) => {
        pending.set(id, resolve);
        worker.postMessage({ id, kind: 'audience', read: { op: 'portrait', filter: { project, domain, day: time } } });
      });
    }
    return reply.type('application/json; charset=utf-8').send(body);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const a = app.server.address();
  process.stdout.write(`bare fastify${hop ? ' (worker hop)' : ''} listening on http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0} (${body.length} bytes)\n`);
  const stop = (): void => void app.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
