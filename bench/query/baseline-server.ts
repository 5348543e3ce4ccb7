// The baseline for query latency: a bare Fastify route answering a fixed ~40 KB JSON body,
// run as its own process exactly like `livestats serve`, so the ratio shows livestats' own cost.
import Fastify from 'fastify';

const series = Array.from({ length: 61 }, (_, i) => ({
  time: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  http_codes: [200, 206, 302, 304, 403, 404, 499, 500, 502, 504].map((code, j) => ({ code, count: 1000 + i * j, proportion: 0.1234 })),
}));
const body = JSON.stringify({ data_series: series });

const app = Fastify({ logger: false });
app.get('/fixed', async (_req, reply) => reply.type('application/json').send(body));
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(`baseline listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0} (${body.length} bytes)\n`);
const stop = (): void => void app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
