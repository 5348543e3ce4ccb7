import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** A real pino logger whose JSON lines are kept in memory, for asserting what was logged. */
export function captureLogger(level = 'info'): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      done();
    },
  });
  return {
    logger: pino({ level }, stream),
    lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
