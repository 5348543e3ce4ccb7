// The baseline beside each dense query row: a bare node:http server sending the identical bytes
// (read from the file named on the command line) with the same content type, in its own process.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const body = readFileSync(process.argv[2] ?? '');
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`bare listening on http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0} (${body.length} bytes)\n`);
});
const stop = (): void => void server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
