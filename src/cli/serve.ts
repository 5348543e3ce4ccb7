import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, resolveServeConfig, serveHelp, serveParseOptions, type ServeConfig } from '../config.js';
import type { IssuedCredentials } from '../auth/credentials.js';
import { DEMO_PROJECT, startServer, syslogAddress, type RunningServer } from '../server.js';
import { isLoopbackHost } from '../api/metrics/access.js';
import { DEMO_TASK } from '../demo/carousel.js';
import { FormatError } from '../ingest/formats/log-format.js';
import { GeoOverrideError } from '../ingest/geo/overrides.js';
import { SyslogConfigError, type SyslogListener } from '../ingest/syslog/server.js';
import { CarouselConfigError } from '../carousel/config.js';
import { DataDirError, fsErrorText } from '../store/data-dir-choice.js';
import { StatSourceError } from '../origin/poller.js';
import { exitIfStuck } from '../shutdown.js';

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

/** Why the server could not start, with what to do about it (a busy port names --port and LIVESTATS_PORT). */
export function startFailure(err: unknown, config: Pick<ServeConfig, 'host' | 'port' | 'data'>): string {
  const { code, syscall } = err as NodeJS.ErrnoException;
  const fs = syscall === 'listen' ? undefined : fsErrorText(err);
  if (fs) return `cannot start: ${fs}`;
  const where = `${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  if (code === 'EADDRINUSE') {
    return `cannot listen on ${where}: the port is already in use (by another livestats or another program). ` +
      'Choose a free port with --port N or LIVESTATS_PORT=N (e.g. `LIVESTATS_PORT=8095 npm start`), or stop what holds it.';
  }
  if (code === 'EACCES') {
    return `cannot listen on ${where}: permission denied (ports below 1024 need privileges). Choose another port with --port N or LIVESTATS_PORT=N.`;
  }
  if (code === 'EADDRNOTAVAIL') {
    return `cannot listen on ${where}: ${config.host} is not an address of this machine. Choose another with --host or LIVESTATS_HOST.`;
  }
  if ((err as { code?: string }).code === 'SQLITE_CANTOPEN') {
    return `cannot start: cannot open the database ${join(config.data, 'livestats.db')} (${(err as Error).message}); check that it is a file this user can read and write`;
  }
  return `cannot start: ${(err as Error).message}`;
}

/** --demo on an address others can reach: /dashboard/config.json hands them the demo session token. */
export function demoExposureWarning(config: Pick<ServeConfig, 'demo' | 'host'>): string | undefined {
  if (!config.demo || isLoopbackHost(config.host)) return undefined;
  return `--demo with --host ${config.host}: GET /dashboard/config.json hands a working API token for project "demo" ` +
    'to anyone who can reach this port (the dashboard signs in with it). Use --host 127.0.0.1 (the default) for a demo, ' +
    'or keep the port behind a firewall.';
}

export function banner(
  url: string, demo: boolean, auth: RunningServer['auth'], dataDir = './data', syslog: readonly SyslogListener[] = [],
): string {
  const project = demo ? DEMO_PROJECT : auth.issued?.project_id ?? '<project_id>';
  const domain = demo ? 'play.example.com,hls.example.com' : '<domain>';
  const task = demo ? DEMO_TASK : '<task_id>';
  const token = auth.sessionToken ?? auth.issued?.token ?? '<token>';
  const header = `-H 'X-Auth-Token: ${token}'`;
  return [
    `livestats is listening on ${url}`,
    `Dashboard: ${url}/`,
    ...syslog.map((l) => `Syslog listener: ${syslogAddress(l)}`),
    '',
    ...credentialLines(auth.issued, dataDir),
    ...(auth.sessionToken ? ['Demo session token for project "demo" (valid until this server stops):', `  ${auth.sessionToken}`, ''] : []),
    'Try:',
    `  curl -s ${header} '${url}/v2/${project}/stats/httpcodes?play_domains=${domain}'`,
    `  curl -s ${header} '${url}/v2/${project}/stats/carousel-task/detail?carousel_task_id=${task}'`,
    '',
  ].join('\n');
}

/**
 * `livestats serve`: runs until SIGTERM/SIGINT, then stops (requests in flight get --shutdown-grace-ms),
 * flushes everything and exits 0; if something still holds the process 5 s after that, it exits anyway.
 */
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
    if (err instanceof DataDirError) {
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
    console.error(`livestats serve: ${startFailure(err, config)}`);
    return 1;
  }
  const stopped = runUntilSignal(server); // handlers first: a signal right after the banner is handled
  const warning = demoExposureWarning(config);
  if (warning) console.error(`livestats serve: warning: ${warning}`);
  process.stdout.write(banner(server.url, config.demo, server.auth, config.data, server.syslog?.bound));
  const code = await stopped;
  exitIfStuck(code, server.logger);
  return code;
}

/**
 * Waits for SIGTERM/SIGINT, then stops accepting, gives requests in flight their grace, flushes
 * everything pending and resolves the exit code (each step is logged with its duration).
 */
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
