import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

/**
 * A shorter but real smoke of `npm run soak` (the 30-minute run is not part of the suite): one
 * minute (LIVESTATS_SOAK_SMOKE_MINUTES; not shorter in `npm test`: half a minute ends too close to
 * the warm-up for the memory check to mean anything) at 6,000 lines/s through all four ways
 * (batch CLI, --follow, syslog, HTTP) into a real
 * server process, 10 query connections and the dashboard poller, then every check of the full
 * soak: memory after the warm-up (a third of the run), no errors, acks within 60 s and batch runs within
 * 120 s (hang catchers only: the suite shares the CPU, and the 30-minute soak holds its own 2 s and 10 s), and
 * every (domain, minute, code) count exact against the model, while a second tenant sends extreme
 * values (lines of 2^53 - 1 and 2^40 bytes into one cell) all along.
 */
const MINUTES = Number(process.env.LIVESTATS_SOAK_SMOKE_MINUTES ?? 1);

it(`soak smoke: ${MINUTES} minute(s), all four ways, queries and poller, counts exact, memory flat, no errors`, async () => {
  const script = join(import.meta.dirname, '..', 'dist', 'reliability', 'soak', 'run.js');
  const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
    execFile(process.execPath, [script, '--minutes', String(MINUTES), '--rate', '6000', '--ack-limit-ms', '60000', '--batch-limit-ms', '120000', '--no-report'], { maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
  });
  expect(out).toContain('lines lost: 0, double-counted: 0');
  expect(out).toContain('- ok: errors: 0');
  // A second tenant sent extreme values into one cell all along: answered and stored as counted.
  expect(out).toMatch(/- ok: poison tenant \(one cell, lines of 2\^53 - 1 and of 2\^40 bytes\): [\d,]+ batches/);
  expect(out).toMatch(/soak: PASS/);
  expect(code).toBe(0);
}, 180_000);
