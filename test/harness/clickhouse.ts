import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolPath } from '../helpers/system-tools.js';
import { freePort } from './ports.js';

/**
 * Starts real `clickhouse-server` processes (the Debian package, 18.16 here) on free
 * loopback ports, each with its own temporary data directory and minimal config, and
 * tears them down. A cluster is N single-replica shards that all know each other
 * through `remote_servers`.
 */


export interface ClickHouseServer {
  httpPort: number;
  tcpPort: number;
  /** http://default:@127.0.0.1:<port>/<database> */
  url(database: string): string;
  /** Runs one SQL statement over HTTP and returns the response body. */
  sql(query: string): Promise<string>;
  /** Stops the process (SIGTERM, or SIGKILL when `hard`), keeping its data. */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same ports and data. */
  start(): Promise<void>;
  /** Stops it and deletes its directory. */
  destroy(): Promise<void>;
  /** The running process's id (CPU accounting in benchmarks). */
  pid(): number | undefined;
  /** Sends a signal to the running process (SIGSTOP/SIGCONT in fault tests). */
  signal(sig: NodeJS.Signals): void;
  /**
   * Stalls the running process (SIGSTOP) and returns once every one of its threads is stopped. kill(2)
   * returns before that: a server thread already running (on the other core) goes on for a few ms and
   * may still answer a request sent after signal('SIGSTOP') (seen in a third of tries on 2 cores).
   * SIGCONT (signal) resumes it.
   */
  pause(): Promise<void>;
  /**
   * Turns logging into system.query_log on or off for the queries that start from now on (a server launched
   * with `queryLog` only): rewrites users.xml, which clickhouse-server 18.16 reloads within ~2 s, and returns once a
   * new query sees the new `log_queries` (system.settings). Benchmarks keep it on for their warm-ups and turn it off
   * for their loads: the log costs every query.
   */
  setQueryLog(on: boolean): Promise<void>;
}

export interface Ports { http: number; tcp: number }

/** Servers still running; killed if the test process exits without tearing them down. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** Where and how one server of a replicated cluster runs (see test/harness/replicated.ts). */
export interface Placement {
  /** The address it listens on and is reached at (default 127.0.0.1). */
  host: string;
  /** A network namespace to run it in (`ip netns exec`), or none. */
  netns?: string;
  /** The whole <remote_servers> element. */
  remoteServers: string;
  zookeeper: { host: string; port: number }[];
  macros: { shard: string; replica: string };
  /** Port other replicas fetch parts from. */
  interserverPort: number;
}

export interface Extra {
  /** Log every query to system.query_log (flushed each second): profiling in benchmarks. */
  queryLog?: boolean;
  /** Log every part written, merged or removed to system.part_log (flushed each second): what a write costs, in benchmarks. */
  partLog?: boolean;
  /** How long start() waits for the server (a large dataset's parts load first). */
  readyTimeoutMs?: number;
  placement?: Placement;
}

const QUERY_LOG = '<query_log><database>system</database><table>query_log</table><flush_interval_milliseconds>1000</flush_interval_milliseconds></query_log>';
const PART_LOG = '<part_log><database>system</database><table>part_log</table><flush_interval_milliseconds>1000</flush_interval_milliseconds></part_log>';

function configXml(dir: string, ports: Ports, cluster?: { name: string; shards: Ports[] }, extra: Extra = {}): string {
  const shards = cluster
    ? `<remote_servers><${cluster.name}>${cluster.shards
      .map((s) => `<shard><replica><host>127.0.0.1</host><port>${s.tcp}</port></replica></shard>`)
      .join('')}</${cluster.name}></remote_servers>`
    : '';
  const at = extra.placement;
  const replication = at ? `${at.remoteServers}
  <zookeeper>${at.zookeeper.map((z) => `<node><host>${z.host}</host><port>${z.port}</port></node>`).join('')}<session_timeout_ms>4000</session_timeout_ms><operation_timeout_ms>2000</operation_timeout_ms></zookeeper>
  <macros><shard>${at.macros.shard}</shard><replica>${at.macros.replica}</replica></macros>
  <interserver_http_port>${at.interserverPort}</interserver_http_port><interserver_http_host>${at.host}</interserver_http_host>` : '';
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/server.log</log><errorlog>${dir}/error.log</errorlog><console>0</console></logger>
  <listen_host>${at?.host ?? '127.0.0.1'}</listen_host>${replication}
  <http_port>${ports.http}</http_port>
  <tcp_port>${ports.tcp}</tcp_port>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  ${shards}
  ${extra.queryLog ? QUERY_LOG : ''}
  ${extra.partLog ? PART_LOG : ''}
</yandex>
`;
}

const usersXml = (extra: Extra): string => `<?xml version="1.0"?>
<yandex>
  <profiles><default><background_pool_size>2</background_pool_size>${extra.queryLog ? '<log_queries>1</log_queries>' : ''}</default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip>${extra.placement ? '<ip>10.0.0.0/8</ip>' : ''}</networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`;

/** The kernel's view of a process (its State line: D is an uninterruptible wait, e.g. on the disk). */
function processState(pid: number | undefined): string {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').filter((l) => /^(State|VmRSS|Threads):/.test(l)).join(', ');
  } catch {
    return 'no /proc entry';
  }
}

/**
 * Whether every thread of `pid` is stopped (state T in /proc/<pid>/task/<tid>/stat), so that none
 * can answer a request until SIGCONT. A thread that exited meanwhile counts as stopped.
 */
export function allThreadsStopped(pid: number): boolean {
  const tasks = readdirSync(`/proc/${pid}/task`);
  return tasks.length > 0 && tasks.every((tid) => {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      return true;
    }
    // "<tid> (<comm>) <state> ...": the name may hold spaces and parentheses, so the state follows the last ')'.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'T' || state === 'Z' || state === 'X';
  });
}

/** The end of a server's error log. */
function logTail(dir: string): string {
  const file = join(dir, 'error.log');
  return existsSync(file) ? `error.log: ${readFileSync(file, 'utf8').slice(-2000)}` : 'no error.log';
}

async function waitReady(port: number, proc: ChildProcess, dir: string, timeoutMs = 30_000, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`clickhouse-server exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n${logTail(dir)}`);
    }
    try {
      // A bounded wait: whatever else holds the port (it was taken meanwhile) may never answer.
      const res = await fetch(`http://${host}:${port}/ping`, { signal: AbortSignal.timeout(2_000) });
      if ((await res.text()) === 'Ok.\n' && proc.exitCode === null && proc.signalCode === null) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`clickhouse-server on port ${port} not ready after ${timeoutMs} ms`);
}

export function launch(dir: string, ports: Ports, cluster?: { name: string; shards: Ports[] }, extra: Extra = {}): ClickHouseServer {
  const host = extra.placement?.host ?? '127.0.0.1';
  const netns = extra.placement?.netns;
  writeFileSync(join(dir, 'config.xml'), configXml(dir, ports, cluster, extra));
  writeFileSync(join(dir, 'users.xml'), usersXml(extra));
  let logging = extra.queryLog === true;
  let proc: ChildProcess | undefined;
  const server: ClickHouseServer = {
    httpPort: ports.http,
    tcpPort: ports.tcp,
    url: (database) => `http://default:@${host}:${ports.http}/${database}`,
    async sql(query) {
      const res = await postOnce(host, ports.http, query);
      if (res.status !== 200) throw new Error(`ClickHouse ${res.status}: ${res.text}`);
      return res.text;
    },
    async start() {
      const args = [`--config-file=${join(dir, 'config.xml')}`];
      // `ip netns exec` execs the server in place: the child's pid is the server's.
      const p = netns
        ? spawn('ip', ['netns', 'exec', netns, toolPath('clickhouse-server'), ...args], { cwd: dir, stdio: 'ignore' })
        : spawn(toolPath('clickhouse-server'), args, { cwd: dir, stdio: 'ignore' });
      proc = p;
      live.add(p);
      p.once('exit', () => live.delete(p));
      await waitReady(ports.http, p, dir, extra.readyTimeoutMs ?? 60_000, host);
    },
    async stop(hard = false) {
      const p = proc;
      proc = undefined;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<'exited'>((r) => p.once('exit', () => r('exited')));
      p.kill(hard ? 'SIGKILL' : 'SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 15_000);
      // A hang catcher below the hooks' timeout: a server that outlives SIGKILL is described, not waited for bare.
      let late: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([exited, new Promise<'late'>((r) => {
        late = setTimeout(() => r('late'), 45_000);
      })]);
      clearTimeout(timer);
      clearTimeout(late);
      if (outcome === 'late') throw new Error(`clickhouse-server (pid ${p.pid}) still running 45 s after ${hard ? 'SIGKILL' : 'SIGTERM'}: ${processState(p.pid)}\n${logTail(dir)}`);
    },
    async destroy() {
      await server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
    pid: () => proc?.pid,
    signal(sig: NodeJS.Signals) {
      proc?.kill(sig);
    },
    async pause() {
      const pid = proc?.pid;
      if (pid === undefined || !proc?.kill('SIGSTOP')) throw new Error('pause: clickhouse-server is not running');
      // A hang catcher only: a stopped process is seen within milliseconds.
      const deadline = Date.now() + 30_000;
      while (!allThreadsStopped(pid)) {
        if (Date.now() > deadline) throw new Error(`pause: clickhouse-server (pid ${pid}) not stopped 30 s after SIGSTOP: ${processState(pid)}`);
        await new Promise((r) => setTimeout(r, 1));
      }
    },
    async setQueryLog(on) {
      if (!extra.queryLog) throw new Error('setQueryLog: this server was launched without queryLog (no system.query_log)');
      if (on === logging) return;
      const file = join(dir, 'users.xml');
      // 18.16 notices a changed config by its modification time in whole seconds: a rewrite within the second of the
      // last write (a quick test, two toggles in a row) would never be reloaded. The new file's time is set to a later
      // second than the last one's (ahead of the clock if need be).
      const last = Math.floor(statSync(file).mtimeMs / 1000);
      writeFileSync(file, usersXml({ ...extra, queryLog: on }));
      const stamp = Math.max(Math.floor(Date.now() / 1000), last + 1);
      utimesSync(file, stamp, stamp);
      const want = on ? '1' : '0';
      const deadline = Date.now() + 60_000;
      while ((await server.sql("SELECT value FROM system.settings WHERE name = 'log_queries'")).trim() !== want) {
        if (Date.now() > deadline) throw new Error(`clickhouse-server did not reload users.xml (log_queries ${want}) within 60 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
      logging = on;
    },
  };
  return server;
}

export async function allocate(): Promise<Ports> {
  return { http: await freePort(), tcp: await freePort() };
}

/**
 * Whether a server did not start because a port chosen for it was bound by another process first
 * (freePort's pick is free only until someone binds it: another test file's chooser may pick it too).
 */
export function portTaken(err: unknown): boolean {
  return err instanceof Error && /Address already in use/.test(err.message);
}

/** Starts what `make` launches on ports from `ports`, with new ports (up to 3 tries) when one was taken meanwhile. */
async function startOnFreshPorts<T>(ports: () => Promise<Ports>, make: (p: Ports) => T, start: (t: T) => Promise<void>, destroy: (t: T) => Promise<void>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const t = make(await ports());
    try {
      await start(t);
      return t;
    } catch (err) {
      await destroy(t);
      if (attempt >= 3 || !portTaken(err)) throw err;
    }
  }
}

/** One server, started and ready (`ports`: where its ports come from; tests of the retry pass their own). */
export async function startClickHouse(ports: () => Promise<Ports> = allocate): Promise<ClickHouseServer> {
  return startOnFreshPorts(ports, (p) => launch(mkdtempSync(join(tmpdir(), 'livestats-ch-')), p), (s) => s.start(), (s) => s.destroy());
}

/** One server on `dir` (made if missing) that keeps its data when stopped: datasets reused across runs. */
export async function startClickHouseIn(dir: string, extra: Extra = {}): Promise<ClickHouseServer> {
  mkdirSync(dir, { recursive: true });
  return startOnFreshPorts(allocate, (p) => launch(dir, p, undefined, { readyTimeoutMs: 180_000, ...extra }), (s) => s.start(), (s) => s.stop(true));
}

/** `shards` servers forming the cluster `name` (one replica per shard), started and ready. */
export async function startClickHouseCluster(name: string, shards = 2): Promise<ClickHouseServer[]> {
  for (let attempt = 1; ; attempt++) {
    const ports: Ports[] = [];
    for (let i = 0; i < shards; i++) ports.push(await allocate());
    const servers = ports.map((p) => launch(mkdtempSync(join(tmpdir(), 'livestats-ch-')), p, { name, shards: ports }));
    const started = await Promise.allSettled(servers.map((s) => s.start()));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!failed) return servers;
    await Promise.all(servers.map((s) => s.destroy()));
    // Every server's config names every other's ports: a taken one means new ports for all.
    if (attempt >= 3 || !started.every((r) => r.status === 'fulfilled' || portTaken(r.reason))) throw failed.reason;
  }
}

/**
 * One POST on a connection of its own (no keep-alive): fetch's pool may reuse a connection the server
 * has just closed as idle (its keep_alive_timeout), and on a busy machine the request then dies with
 * EPIPE, a statement never sent.
 */
function postOnce(host: string, port: number, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port, method: 'POST', path: '/', agent: false, headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
