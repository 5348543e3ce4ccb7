import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolPath } from './system-tools.js';

/**
 * Debian's nginx (plain HTTP; test/harness/nginx-rtmp.ts has the RTMP one) in the foreground with one
 * worker, every path in `root`: nginx.conf, nginx.pid, error.log and the temp directories. `http` is
 * the body of the http {} block (log formats, servers). Stop it with kill('SIGQUIT').
 */
export function startNginx(root: string, http: string): ChildProcess {
  for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'nginx.conf'), `
pid ${root}/nginx.pid;
error_log ${root}/error.log warn;
daemon off;
worker_processes 1;
events { worker_connections 64; }
http {
  client_body_temp_path ${root}/client_body; proxy_temp_path ${root}/proxy; fastcgi_temp_path ${root}/fastcgi;
  uwsgi_temp_path ${root}/uwsgi; scgi_temp_path ${root}/scgi;
${http}
}`);
  return spawn(toolPath('nginx'), ['-p', root, '-e', join(root, 'error.log'), '-c', join(root, 'nginx.conf')], { stdio: 'ignore' });
}
