import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolPath } from '../helpers/system-tools.js';

/**
 * A real ZooKeeper server (the Debian package's jar, standalone mode) on a given address, optionally
 * inside a network namespace, with its own temporary data directory. Used by the replicated
 * ClickHouse layout (test/harness/replicated.ts).
 */
export interface ZooKeeper {
  host: string;
  port: number;
  /** Starts (again, on the same data) and waits until it answers `ruok`. */
  start(): Promise<void>;
  /** Stops it (SIGKILL: a crash), keeping its data. */
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** `imok` when the server at host:port answers the four-letter `ruok`. */
function ruok(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let got = '';
    s.setTimeout(1000, () => s.destroy());
    s.on('connect', () => s.end('ruok'));
    s.on('data', (d) => {
      got += d.toString();
    });
    s.on('close', () => resolve(got === 'imok'));
    s.on('error', () => resolve(false));
  });
}

export function zooKeeper(options: { host: string; port: number; netns?: string }): ZooKeeper {
  const dir = mkdtempSync(join(tmpdir(), 'livestats-zk-'));
  // tickTime 500 ms: sessions may be as short as 1 s, so a lost session is noticed in seconds.
  writeFileSync(join(dir, 'zoo.cfg'), [
    'tickTime=500', `dataDir=${dir}/data`, `clientPort=${options.port}`, `clientPortAddress=${options.host}`,
    'admin.enableServer=false', '4lw.commands.whitelist=ruok', 'maxClientCnxns=200', '',
  ].join('\n'));
  let proc: ChildProcess | undefined;
  const zk: ZooKeeper = {
    host: options.host,
    port: options.port,
    async start() {
      const args = ['-Xmx192m', '-XX:+UseSerialGC', '-cp', `${dir}:${toolPath('zookeeper')}`, `-Dzookeeper.log.dir=${dir}`,
        'org.apache.zookeeper.server.quorum.QuorumPeerMain', join(dir, 'zoo.cfg')];
      const p = options.netns ? spawn('ip', ['netns', 'exec', options.netns, 'java', ...args], { stdio: 'ignore' }) : spawn('java', args, { stdio: 'ignore' });
      proc = p;
      live.add(p);
      p.once('exit', () => live.delete(p));
      const deadline = Date.now() + 60_000;
      while (!(await ruok(options.host, options.port))) {
        if (p.exitCode !== null || p.signalCode !== null) throw new Error(`zookeeper exited (${p.exitCode ?? p.signalCode})`);
        if (Date.now() > deadline) throw new Error('zookeeper not ready after 60 s');
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop() {
      const p = proc;
      proc = undefined;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGKILL');
      await exited;
    },
    async destroy() {
      await zk.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return zk;
}
