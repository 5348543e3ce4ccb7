import { parseArgs } from 'node:util';
import { ConfigError, resolveServeConfig, serveHelp, serveParseOptions } from '../config.js';
import type { IssuedCredentials } from '../auth/credentials.js';
import { DEMO_PROJECT, startServer, type RunningServer } from '../server.js';
import { DEMO_TASK } from '../demo/carousel.js';
import { FormatError } from '../ingest/formats/log-format.js';
import { GeoOverrideError } from '../ingest/geo/overrides.js';
import { SyslogConfigError } from '../ingest/syslog/server.js';
import { CarouselConfigError } from '../carousel/config.js';
import { StatSourceError } from '../origin/poller.js';

function credentialLines(issued: IssuedCredentials | undefined, dataDir: string): string[] {
  if (!issued) return [];
  return [
    `First start: created credentials for project "${issued.project_id}" (shown only now; store them safely):`,
    `  AK     ${issued.ak}`,
    `  SK     ${issued.sk}`,
    `  Token  ${issued.token}   (id ${issued.token_id})`,
    `Manage them with \`livestats keys create|list|revoke --data ${dataDir}\` (see docs/auth.md).`,
    '',
  ];
}

export function banner(url: string, demo: boolean, auth: RunningServer['auth'], dataDir = './data'): string {
  const project = demo ? DEMO_PROJECT : auth.issued?.project_id ?? '<project_id>';
  const domain = demo ? 'play.example.com,hls.example.com' : '<domain>';
  const task = demo ? DEMO_TASK : '<task_id>';
  const token = auth.sessionToken ?? auth.issued?.token ?? '<token>';
  const header = `-H 'X-Auth-Token: ${token}'`;
  return [
    `livestats is listening on ${url}`,
    `Dashboard: ${url}/`,
    '',
    ...credentialLines(auth.issued, dataDir),
    ...(auth.sessionToken ? ['Demo session token for project "demo" (valid until this server stops):', `  ${auth.sessionToken}`, ''] : []),
    'Try:',
    `  curl -s ${header} '${url}/v2/${project}/stats/httpcodes?play_domains=${domain}'`,
    `  curl -s ${header} '${url}/v2/${project}/stats/carousel-task/detail?carousel_task_id=${task}'`,
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
    config = resolveServeConfig(parsed.values as Record<string, string | boolean | string[] | undefined>);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`livestats serve: ${err.message}`);
      return 2;
    }
    throw err;
  }
  let server: RunningServer;
  try {
    server = await startServer(config);
  } catch (err) {
    if (err instanceof FormatError || err instanceof GeoOverrideError || err instanceof SyslogConfigError) {
      console.error(`livestats serve: ${err.message}`);
      return 2;
    }
    if (err instanceof StatSourceError) {
      console.error(`livestats serve: --origin-stat ${err.message}`);
      return 2;
    }
    if (err instanceof CarouselConfigError) {
      console.error(`livestats serve: --carousel ${err.message}`);
      return 2;
    }
    console.error(`livestats serve: cannot start: ${(err as Error).message}`);
    return 1;
  }
  const stopped = runUntilSignal(server); // handlers first: a signal right after the banner is handled
  process.stdout.write(banner(server.url, config.demo, server.auth, config.data));
  return stopped;
}

/** Waits for SIGTERM/SIGINT, then stops accepting, flushes everything pending and resolves the exit code. */
export function runUntilSignal(server: RunningServer): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string): void => {
      if (stopping) {
        // A repeated signal must not kill the process half-way through the final flush.
        server.logger.warn({ signal }, 'already shutting down (flushing pending data); SIGKILL aborts without flushing');
        return;
      }
      stopping = true;
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
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  });
}
