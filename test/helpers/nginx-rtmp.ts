import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';

export { freePort } from '../harness/ports.js';
import { freePort } from '../harness/ports.js';
import { toolPath } from './system-tools.js';

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ host: '127.0.0.1', port }, () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface NginxRtmp {
  port: number;
  /** rtmp://127.0.0.1:<port>/live */
  base: string;
  stop(): Promise<void>;
}

/** Starts Debian's nginx with libnginx-mod-rtmp on a free loopback port, all state in `dir`. */
export async function startNginxRtmp(dir: string): Promise<NginxRtmp> {
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  await writeFile(conf, [
    `load_module ${toolPath('nginx-rtmp')};`,
    'daemon off;',
    'master_process off;',
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'nginx-error.log')} info;`,
    'events { worker_connections 64; }',
    `rtmp { server { listen 127.0.0.1:${port}; application live { live on; } } }`,
    '',
  ].join('\n'));
  const child: ChildProcess = spawn(toolPath('nginx'), ['-c', conf, '-p', dir, '-e', join(dir, 'nginx-error.log')], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port, 60_000); // a hang catcher: nginx starts slowly on a busy machine
  return {
    port,
    base: `rtmp://127.0.0.1:${port}/live`,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
