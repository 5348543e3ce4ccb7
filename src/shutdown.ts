import type { Server } from 'node:http';
import type { Logger } from 'pino';

/** A shutdown step running longer than this is named in a warn line while it runs. */
export const SLOW_STEP_MS = 5_000;

/**
 * Runs one step of a shutdown and logs it: an info line with its duration when it ends, and a warn
 * line naming it as soon as it has taken longer than `slowMs` (so a step that hangs is named in the
 * log before a supervisor kills the process). A failing step is logged and its error rethrown.
 */
export async function timedStep<T>(logger: Logger, step: string, run: () => Promise<T> | T, slowMs = SLOW_STEP_MS): Promise<T> {
  const started = performance.now();
  const ms = (): number => Math.round(performance.now() - started);
  const slow = setTimeout(() => logger.warn({ step, after_ms: ms() }, `shutdown: ${step} is taking long`), slowMs);
  slow.unref();
  try {
    const out = await run();
    logger.info({ step, ms: ms() }, `shutdown: ${step} done`);
    return out;
  } catch (err) {
    logger.error({ step, ms: ms(), err }, `shutdown: ${step} failed`);
    throw err;
  } finally {
    clearTimeout(slow);
  }
}

/** Open connections of an HTTP server. */
function connections(server: Server): Promise<number> {
  return new Promise((resolve) => server.getConnections((err, n) => resolve(err ? 0 : n)));
}

/**
 * Stops an HTTP server within a grace period: `close` stops accepting and closes idle keep-alive
 * connections, requests in flight may finish for `graceMs`, and then every connection still open is
 * destroyed (a client that dribbles its body or never reads its answer cannot hold the shutdown: Node
 * stops enforcing its request timeouts once the server closes). A request whose body was cut off then
 * never reaches its handler: it is not acknowledged and nothing of it is counted.
 */
export async function closeWithGrace(server: Server, close: () => Promise<void>, graceMs: number, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = close();
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), graceMs);
  });
  try {
    if ((await Promise.race([closed.then(() => 'closed' as const), expired])) === 'closed') return;
  } finally {
    clearTimeout(timer);
  }
  const open = await connections(server);
  logger.warn({ connections: open, grace_ms: graceMs },
    `shutdown: ${open} HTTP connection(s) still busy after the ${graceMs} ms grace: closed (their requests are not answered)`);
  server.closeAllConnections();
  await closed;
}

/**
 * After a clean stop the process should end as soon as nothing is left to run. If something still keeps
 * it alive `afterMs` later (a timer or socket a part did not release), it is named and the process exits
 * with `code` anyway: a service manager must not have to kill a server that has already flushed.
 */
export function exitIfStuck(code: number, logger: Logger, afterMs = SLOW_STEP_MS): void {
  const timer = setTimeout(() => {
    logger.warn({ resources: process.getActiveResourcesInfo() }, `still running ${afterMs} ms after stopping: exiting`);
    process.exit(code);
  }, afterMs);
  timer.unref();
}
