// A bare Fastify process that answers GET /body/<i> with the bytes of the i-th file named on its
// command line (read once at start): the baseline "sending the same bytes" as the endpoint it stands
// beside, so a benchmark row's ratio shows livestats' own cost, not the cost of moving its answer.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const bodies = process.argv.slice(2).map((file) => readFileSync(file));
const app = Fastify({ logger: false });
app.get<{ Params: { i: string } }>('/body/:i', async (request, reply) => {
  const body = bodies[Number(request.params.i)];
  if (body === undefined) return reply.code(404).send();
  return reply.type('application/json; charset=utf-8').send(body);
});
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(`same-bytes baseline listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0} (${bodies.length} bodies)\n`);
const stop = (): void => void app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
