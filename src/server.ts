import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildApp } from './api/app.js';
import type { Authenticate } from './api/auth.js';
import { credentialsPath, withdrawFirstCredentials, type IssuedCredentials } from './auth/credentials.js';
import { setupAuth, type ServerAuth } from './auth/setup.js';
import { CarouselConfigError, loadCarouselConfig } from './carousel/config.js';
import { CarouselSupervisor } from './carousel/supervisor.js';
import type { ServeConfig } from './config.js';
import { Demo } from './demo/demo.js';
import { StoreHealth } from './health/store-health.js';
import { Aggregator } from './ingest/aggregator.js';
import { RetentionJob } from './ingest/retention.js';
import { NameLimits } from './ingest/name-limits.js';
import { geoResolver } from './ingest/setup.js';
import { parseSyslogUrl, SyslogReceiver, type SyslogListener } from './ingest/syslog/server.js';
import { OriginTracker } from './origin/tracker.js';
import { parseStatSource, StatPoller } from './origin/poller.js';
import { originRefusedCounter } from './metrics/origin-refused.js';
import { OriginProber, probeUrl } from './origin-probe/prober.js';
import { ispOfCode, regionOfCode } from './ingest/geo/names.js';
import { isLoopbackHost, MetricsAccess } from './api/metrics/access.js';
import { Metrics } from './metrics/registry.js';
import { timedStore } from './metrics/timed-store.js';
import { createStore } from './store/index.js';
import { closeWithGrace, timedStep } from './shutdown.js';
import { acquireLock, prepareDataDir, type ProcessLock } from './store/data-dir.js';
import type { TrafficQuery } from './store/traffic.js';
import type { Store } from './store/types.js';

export const DEMO_PROJECT = 'demo';
/** The project first-start credentials are created for outside demo mode (unless --syslog-project names another). */
export const DEFAULT_PROJECT = 'default';

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  aggregator: Aggregator;
  /** What GET /metrics exports. */
  metrics: Metrics;
  /** Whether the store accepts writes (what /healthz reports). */
  health: StoreHealth;
  logger: Logger;
  /** Syslog intake when --syslog was given. */
  syslog: SyslogReceiver | undefined;
  /** Credentials created on this start and the demo session token (see docs/auth.md). */
  auth: Omit<ServerAuth, 'authenticate'>;
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  /**
   * Stops accepting, lets requests in flight finish for --shutdown-grace-ms (then closes their
   * connections), flushes everything pending, closes the store; each step is logged with its duration.
   */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  now?: () => number;
  /** Replaces credential-file authentication (e.g. `allowAll` in tests of other features). */
  authenticate?: Authenticate;
  /** How often the credentials file is checked for changes (default 1000 ms). */
  credentialCheckIntervalMs?: number;
  /** Token the dashboard uses in demo mode (sent as X-Auth-Token); none while auth is open. */
  dashboardToken?: string;
  /** Replaces the store as the traffic endpoints' data (tests of the dashboard's Traffic view). */
  traffic?: TrafficQuery;
}

/** The project first-start credentials are for: the syslog project, whose default is DEFAULT_PROJECT. */
const firstProject = (config: ServeConfig): string => config.syslogProject || DEFAULT_PROJECT;

/** `udp://127.0.0.1:5140` for a bound syslog listener. */
export const syslogAddress = (l: SyslogListener): string =>
  `${l.protocol}://${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`;

/** A failed first start takes its never-shown credentials back, so the next start prints new ones. */
function withdrawIssued(dataDir: string, issued: IssuedCredentials, logger: Logger): void {
  try {
    withdrawFirstCredentials(dataDir, issued);
    logger.warn({ file: credentialsPath(dataDir) }, 'start failed: the first-start credentials were not kept; the next start creates and prints new ones');
  } catch (err) {
    logger.error({ err: { message: (err as Error).message }, ak: issued.ak, token_id: issued.token_id },
      'start failed and the first-start credentials could not be withdrawn; revoke them with `livestats keys revoke` and create new ones');
  }
}

/** Composes store, aggregator, API and (optionally) demo traffic, and starts listening. */
export async function startServer(config: ServeConfig, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  // read before anything starts, so a bad carousel file fails the start with its message
  const carouselTasks = config.carousel ? loadCarouselConfig(config.carousel) : [];
  const originSources = config.originStat.map(parseStatSource);
  // One server per data directory (its batch-id ledger and credentials are its own): a second
  // one is refused here, naming the first; the kernel drops the lock if the holder dies.
  const dirWarning = prepareDataDir(config.data);
  if (dirWarning) logger.warn(dirWarning);
  const lock: ProcessLock = await acquireLock(config.data, 'serve', 'livestats serve', `data directory ${config.data}`);
  let store: Store;
  try {
    store = createStore(config, { writeThread: true });
  } catch (err) {
    lock.release();
    throw err;
  }
  try {
    await store.init();
  } catch (err) {
    await store.close().catch(() => undefined);
    lock.release();
    throw err;
  }
  let auth: ServerAuth;
  try {
    auth = options.authenticate ? { authenticate: options.authenticate } : setupAuth({
      dataDir: config.data, firstProject: config.demo ? DEMO_PROJECT : firstProject(config),
      sessionProject: config.demo ? DEMO_PROJECT : undefined, logger, checkIntervalMs: options.credentialCheckIntervalMs,
    });
  } catch (err) {
    await store.close();
    lock.release();
    throw err;
  }
  const health = new StoreHealth({ logger });
  const metrics = new Metrics({ store, health, maxSeries: config.metricsMaxSeries, now: options.now });
  const metricsAccess = new MetricsAccess({ host: config.host, token: config.metricsToken || undefined });
  const aggregator = new Aggregator(store, { flushIntervalMs: config.flushIntervalMs, logger, observer: metrics.flushObserver, health });
  metrics.aggregator.watch(() => aggregator.stats());
  aggregator.start();
  const geoOverridesFile = config.geoOverrides || undefined;
  // The origin intake: notifications (POST /ingest/v1/{project}/origin/...) and statistics-page polls.
  const originTracker = new OriginTracker({
    store, geo: (ip) => {
      const code = geoResolver(geoOverridesFile).lookup(ip);
      return { region: regionOfCode(code), isp: ispOfCode(code) };
    },
    maxStreams: config.maxStreams,
  });
  originRefusedCounter(metrics.registry, originTracker);
  const originPoller = originSources.length > 0 ? new StatPoller({
    sources: originSources, intervalMs: config.originPollIntervalMs, tracker: originTracker,
    onError: (source, err) => logger.warn({ origin: source.origin, err: err.message }, 'origin statistics poll failed'),
  }) : undefined;
  // Probes of every live publish session (src/origin-probe/), bounded by --probe-max-streams and --probe-per-origin.
  const prober = config.probeMaxStreams > 0 ? new OriginProber({
    openSessions: () => store.openSessions(), urlOf: (s) => probeUrl(config.probeRtmpUrl, s),
    write: async (rows) => {
      await store.writeQuality(rows);
      metrics.origin?.observeQuality(rows);
    },
    maxStreams: config.probeMaxStreams, perOrigin: config.probePerOrigin, log: logger,
  }) : undefined;
  const names = new NameLimits(store, { maxDomains: config.maxDomains, maxStreams: config.maxStreams, maxCarouselTasks: config.maxCarouselTasks });
  const app = buildApp({
    names,
    store: metrics.store ? timedStore(store, metrics.store) : store, aggregator, logger, now: options.now, authenticate: auth.authenticate,
    metrics: { registry: metrics, access: metricsAccess },
    maxConcurrentQueries: config.maxConcurrentQueries, queryWaitMs: config.queryWaitMs, queryCacheMs: config.queryCacheMs, bodyLimit: config.maxBodyBytes,
    ingest: { retentionDays: config.retentionDays, geoOverridesFile, maxBodyBytes: config.maxBodyBytes, commitTimeoutMs: config.ingestCommitTimeoutMs },
    httpLimits: {
      headersTimeoutMs: config.headersTimeoutMs, bodyTimeoutMs: config.bodyTimeoutMs, requestTimeoutMs: config.requestTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs, maxConnections: config.maxConnections,
    },
    dashboard: config.demo ? { demo: true, project: DEMO_PROJECT, token: options.dashboardToken ?? auth.sessionToken } : undefined,
    traffic: options.traffic ?? store,
    hosts: { allowed: config.allowedHosts, loopback: isLoopbackHost(config.host) },
    maxInflightBodyBytes: config.maxInflightBodyBytes,
    trafficRetentionDays: config.trafficRetentionDays,
    audienceRetentionDays: { domain: config.audienceRetentionDays, stream: config.audienceRetentionDays },
    origin: originTracker,
  });
  const retention = new RetentionJob(store, config.retentionDays, logger, options.now, config.trafficRetentionDays, () => names.reload(), config.audienceRetentionDays);
  let demo: Demo | undefined;
  let syslog: SyslogReceiver | undefined;
  let carousel: CarouselSupervisor | undefined;
  try {
    // The IP index is built now (~80 ms of CPU), not on the event loop of the first ingest POST.
    geoResolver(geoOverridesFile);
    // Syslog settings (addresses, format, overrides) are checked before anything listens.
    if (config.syslog.length > 0) {
      syslog = new SyslogReceiver({
        listeners: config.syslog.map(parseSyslogUrl), project: config.syslogProject, aggregator,
        maxBufferedLines: config.syslogBufferLines, names: await names.gate(config.syslogProject),
        settings: { format: config.syslogFormat, retentionDays: config.retentionDays, geoOverridesFile },
        onError: (err) => logger.error({ err }, 'syslog error'),
      });
      const receiver = syslog;
      metrics.ingest.track('syslog', () => receiver.stats());
    }
    // Sessions open when this server last stopped: the first poll of their origin closes or continues them.
    await originTracker.restore();
    await app.listen({ host: config.host, port: config.port });
    originPoller?.start();
    prober?.start();
    const metricsWarning = metricsAccess.warning(config.host);
    if (metricsWarning) logger.warn(metricsWarning);
    retention.start();
    await syslog?.start();
    if (syslog) {
      logger.info({ listeners: syslog.bound.map(syslogAddress), project: config.syslogProject, format: config.syslogFormat }, 'syslog listener up');
    }
    if (config.demo) {
      demo = new Demo({
        project: DEMO_PROJECT, aggregator, store, now: options.now,
        log: (msg) => logger.info(msg),
      });
      await demo.start();
    }
    for (const t of carouselTasks) {
      if (!(await names.gate(t.project)).task(t.taskId)) {
        throw new CarouselConfigError(`project "${t.project}" has more carousel tasks than --max-carousel-tasks (${config.maxCarouselTasks})`);
      }
    }
    if (carouselTasks.length > 0) {
      carousel = new CarouselSupervisor(carouselTasks, { aggregator, log: logger });
      carousel.start();
      logger.info({ tasks: carouselTasks.map((t) => `${t.project}/${t.taskId}`) }, 'carousel tasks started');
    }
  } catch (err) {
    auth.close?.();
    await originPoller?.stop();
    await prober?.stop();
    retention.stop();
    await syslog?.stop();
    await app.close();
    await aggregator.stop().catch(() => undefined);
    await store.close();
    if (auth.issued) withdrawIssued(config.data, auth.issued, logger);
    lock.release();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  const graceMs = config.shutdownGraceMs;
  return {
    app, store, aggregator, metrics, health, logger, syslog,
    auth: { issued: auth.issued, sessionToken: auth.sessionToken },
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    close() {
      // Each step is logged with its duration, and named in a warn line while it takes long (src/shutdown.ts).
      const step = <T>(name: string, run: () => Promise<T> | T): Promise<T> => timedStep(logger, name, run);
      closing ??= (async () => {
        auth.close?.();
        retention.stop();
        if (originPoller) await step('origin statistics polls', () => originPoller.stop());
        if (prober) await step('origin probes', () => prober.stop());
        if (syslog) await step('syslog listeners', () => syslog?.stop());
        await step('HTTP requests in flight', () => closeWithGrace(app.server, () => app.close(), graceMs, logger));
        if (carousel) await step('carousel tasks', () => carousel?.stop());
        if (demo) await step('demo traffic', () => demo?.stop());
        try {
          await step('final flush to the store', () => aggregator.stop());
        } finally {
          try {
            await step('store close', () => store.close());
          } finally {
            lock.release();
          }
        }
      })();
      return closing;
    },
  };
}
