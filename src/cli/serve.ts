import { parseArgs } from 'node:util';
import { ConfigError, resolveServeConfig, serveHelp, serveParseOptions } from '../config.js';
import { DEMO_PROJECT, startServer, type RunningServer } from '../server.js';
import { DEMO_TASK } from '../demo/carousel.js';

function banner(url: string, demo: boolean): string {
  const project = demo ? DEMO_PROJECT : '<project_id>';
  const domain = demo ? 'play.example.com,hls.example.com' : '<domain>';
  const task = demo ? DEMO_TASK : '<task_id>';
  return [
    `livestats is listening on ${url}`,
    '',
    'Try:',
    `  curl -s '${url}/v2/${project}/stats/httpcodes?play_domains=${domain}'`,
    `  curl -s '${url}/v2/${project}/stats/carousel-task/detail?carousel_task_id=${task}'`,
    '',
  ].join('\n');
}

/** `livestats serve`: runs until SIGTERM/SIGINT, then flushes everything and exits 0. */
export async function serveCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...serveParseOptions(), help: { type: 'boolean', short: 'h' } }, strict: true });
  } catch (err) {
    console.error(`livestats serve: ${(err as Error).message}\n\n${serveHelp()}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(serveHelp());
    return 0;
  }
  let config;
  try {
    config = resolveServeConfig(parsed.values as Record<string, string | boolean | undefined>);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`livestats serve: ${err.message}`);
      return 2;
    }
    throw err;
  }
  let server;
  try {
    server = await startServer(config);
  } catch (err) {
    console.error(`livestats serve: cannot start: ${(err as Error).message}`);
    return 1;
  }
  process.stdout.write(banner(server.url, config.demo));
  return runUntilSignal(server);
}

/** Waits for SIGTERM/SIGINT, then stops accepting, flushes everything pending and resolves the exit code. */
export function runUntilSignal(server: RunningServer): Promise<number> {
  return new Promise<number>((resolve) => {
    const shutdown = (signal: string): void => {
      server.logger.info({ signal }, 'shutting down: flushing pending data');
      server.close().then(
        () => {
          server.logger.info('stopped cleanly');
          resolve(0);
        },
        (err: unknown) => {
          server.logger.error({ err }, 'shutdown failed; some pending data may not be stored');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}
