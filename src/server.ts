import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildApp } from './api/app.js';
import type { Authenticate } from './api/auth.js';
import type { ServeConfig } from './config.js';
import { Demo } from './demo/demo.js';
import { Aggregator } from './ingest/aggregator.js';
import { createStore } from './store/index.js';
import type { Store } from './store/types.js';

export const DEMO_PROJECT = 'demo';

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  aggregator: Aggregator;
  logger: Logger;
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  /** Stops accepting, finishes in-flight requests, flushes everything pending, closes the store. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  now?: () => number;
  authenticate?: Authenticate;
}

/** Composes store, aggregator, API and (optionally) demo traffic, and starts listening. */
export async function startServer(config: ServeConfig, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  const store = createStore(config);
  try {
    await store.init();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  const aggregator = new Aggregator(store, { flushIntervalMs: config.flushIntervalMs, logger });
  aggregator.start();
  const app = buildApp({
    store, aggregator, logger, now: options.now, authenticate: options.authenticate,
    maxConcurrentQueries: config.maxConcurrentQueries, queryCacheMs: config.queryCacheMs,
  });
  let demo: Demo | undefined;
  try {
    await app.listen({ host: config.host, port: config.port });
    if (config.demo) {
      demo = new Demo({
        project: DEMO_PROJECT, aggregator, store, now: options.now,
        log: (msg) => logger.info(msg),
      });
      await demo.start();
    }
  } catch (err) {
    await app.close();
    await aggregator.stop().catch(() => undefined);
    await store.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  return {
    app, store, aggregator, logger,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    close() {
      closing ??= (async () => {
        await app.close();
        await demo?.stop();
        try {
          await aggregator.stop();
        } finally {
          await store.close();
        }
      })();
      return closing;
    },
  };
}
