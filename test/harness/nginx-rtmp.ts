import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { makeClip, type ClipSpec } from '../helpers/clips.js';
import { toolPath } from '../helpers/system-tools.js';
import { freePort } from './ports.js';

/**
 * A real nginx with the RTMP module (Debian nginx + libnginx-mod-rtmp) and real ffmpeg publishers
 * of known frame rate and bitrate (issue 23). Everything lives in one directory; nginx runs in the
 * foreground (no master, one worker) and is stopped by its pid only.
 *
 *   const o = await startRtmpOrigin(dir, { notify: 'http://127.0.0.1:PORT/ingest/v1/p1/origin/nginx' });
 *   const clip = await testClip(dir, { fps: 25, videoKbps: 400, audioKbps: 64, seconds: 4 });
 *   const pub = publish(o.rtmpUrl('live', 's1'), clip);
 *   ... await pub.stop();  await o.stop();
 */

export interface RtmpOriginOptions {
  /**
   * Where nginx-rtmp's notifications go, through the http proxy location of the docs' snippet
   * (deploy/nginx/livestats-origin.conf): a livestats ingest URL. Absent: no notifications.
   */
  notify?: string;
  /** Sent by the proxy location as X-Auth-Token (the docs' way to authenticate). */
  token?: string;
  /** Pushes every stream of application `live` to this RTMP application URL (a relay), e.g. another origin's rtmp://127.0.0.1:P/live. */
  pushTo?: string;
  /**
   * The configuration (rtmp {} and http {} blocks, as a user pastes them) instead of the built-in one;
   * placeholders {RTMP_PORT} {HTTP_PORT} {DIR} are filled in. The harness adds load_module, pid, logs and events.
   */
  conf?: string;
}

export interface RtmpOrigin {
  dir: string;
  rtmpPort: number;
  httpPort: number;
  /** http://127.0.0.1:HTTP_PORT/stat (rtmp_stat all). */
  statUrl: string;
  rtmpUrl(app: string, stream: string): string;
  /** The rendered nginx.conf. */
  conf: string;
  /** The error log so far (notify lines, drops). */
  errorLog(): Promise<string>;
  /** Fetches the statistics page. */
  stat(): Promise<string>;
  stop(): Promise<void>;
}

async function waitForPort(port: number, what: string, timeoutMs = 60_000): Promise<void> {
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
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The built-in configuration: the docs' snippet shape (proxy location that never fails a publisher), on test ports. */
function builtInConf(o: RtmpOriginOptions): string {
  const notify = o.notify
    ? ['on_publish', 'on_publish_done', 'on_play', 'on_play_done', 'on_update']
      .map((d) => `      ${d} http://127.0.0.1:{HTTP_PORT}/livestats-notify;`).join('\n') + '\n      notify_update_timeout 5s;\n'
    : '';
  const push = o.pushTo ? `      push ${o.pushTo};\n` : '';
  const proxy = o.notify
    ? `    location = /livestats-notify {
      proxy_pass ${o.notify};
${o.token ? `      proxy_set_header X-Auth-Token "${o.token}";\n` : ''}      proxy_connect_timeout 1s;
      proxy_send_timeout 2s;
      proxy_read_timeout 2s;
      proxy_intercept_errors on;
      error_page 400 401 403 404 405 408 413 429 500 502 503 504 = @livestats_unavailable;
    }
    location @livestats_unavailable { return 204; }
`
    : '';
  return `rtmp {
  server {
    listen 127.0.0.1:{RTMP_PORT};
    notify_method post;
    application live {
      live on;
${notify}${push}    }
  }
}
http {
  access_log off;
  server {
    listen 127.0.0.1:{HTTP_PORT};
    location = /stat { rtmp_stat all; }
${proxy}  }
}
`;
}

/** Starts nginx with the RTMP module on free loopback ports, all state in `dir`. */
export async function startRtmpOrigin(dir: string, options: RtmpOriginOptions = {}): Promise<RtmpOrigin> {
  await mkdir(dir, { recursive: true });
  const rtmpPort = await freePort();
  let httpPort = await freePort();
  while (httpPort === rtmpPort) httpPort = await freePort();
  const body = (options.conf ?? builtInConf(options))
    .replaceAll('{RTMP_PORT}', String(rtmpPort)).replaceAll('{HTTP_PORT}', String(httpPort)).replaceAll('{DIR}', dir);
  const errorLog = join(dir, 'nginx-error.log');
  const conf = [
    `load_module ${toolPath('nginx-rtmp')};`,
    'daemon off;',
    'master_process off;',
    'worker_processes 1;',
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${errorLog} info;`,
    'events { worker_connections 256; }',
    body,
  ].join('\n');
  const file = join(dir, 'nginx.conf');
  await writeFile(file, conf);
  for (const sub of ['client_body_temp', 'proxy_temp', 'fastcgi_temp', 'uwsgi_temp', 'scgi_temp']) await mkdir(join(dir, sub), { recursive: true });
  const child: ChildProcess = spawn(toolPath('nginx'), ['-c', file, '-p', dir, '-e', errorLog], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const early = exited.then(() => { throw new Error(`nginx exited at start: ${stderr.trim()}`); });
  await Promise.race([Promise.all([waitForPort(rtmpPort, 'nginx rtmp'), waitForPort(httpPort, 'nginx http')]), early]);
  early.catch(() => undefined);
  const statUrl = `http://127.0.0.1:${httpPort}/stat`;
  return {
    dir, rtmpPort, httpPort, statUrl, conf,
    rtmpUrl: (app, stream) => `rtmp://127.0.0.1:${rtmpPort}/${app}/${stream}`,
    errorLog: async () => (existsSync(errorLog) ? readFile(errorLog, 'utf8') : ''),
    stat: async () => (await fetch(statUrl)).text(),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** An FLV test clip of known frame rate and bitrate (H.264 CBR + AAC), made once per spec and directory. */
export async function testClip(dir: string, spec: ClipSpec): Promise<string> {
  const file = join(dir, `clip-${spec.fps}fps-${spec.videoKbps}k-${spec.audioKbps}k-${spec.seconds}s-g${spec.gopSeconds ?? 2}.flv`);
  if (!existsSync(file)) {
    await mkdir(dir, { recursive: true });
    await makeClip(file, spec);
  }
  return file;
}

export interface Publisher {
  /** Resolves when ffmpeg has exited (by itself or stopped). */
  exited: Promise<number | null>;
  /** ffmpeg's stderr so far. */
  log(): string;
  /** Stops the publisher (SIGINT: ffmpeg closes the RTMP stream cleanly) and waits for it. */
  stop(): Promise<void>;
  /** Kills it at once (SIGKILL: a dropped connection, no clean close). */
  kill(): Promise<void>;
  readonly running: boolean;
}

/**
 * Publishes `clip` in a loop at real-time speed (-re, stream copy: little CPU) to `url`, like an
 * encoder would. `seconds`: stop by itself after this long (default: until stopped).
 */
export function publish(url: string, clip: string, seconds?: number): Publisher {
  return run(['-hide_banner', '-loglevel', 'warning', '-nostdin', '-re', '-stream_loop', '-1', '-i', clip,
    ...(seconds !== undefined ? ['-t', String(seconds)] : []), '-c', 'copy', '-f', 'flv', url]);
}

function run(args: string[]): Publisher {
  const child = spawn(toolPath('ffmpeg'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  let running = true;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    running = false;
    resolve(code);
  }));
  return {
    exited,
    log: () => stderr,
    get running() { return running; },
    async stop() {
      if (running) child.kill('SIGINT');
      await exited;
    },
    async kill() {
      if (running) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Plays `url` for `seconds` (ffmpeg reading the stream and discarding it, like a viewer). */
export function play(url: string, seconds: number): Publisher {
  return run(['-hide_banner', '-loglevel', 'warning', '-nostdin', '-i', url, '-t', String(seconds), '-f', 'null', '-']);
}

/**
 * Polls `check` (every 200 ms) until it returns a value other than undefined/false, or fails after
 * `timeoutMs`. `detail` (optional) describes the state seen last, for the failure message: a wait
 * that times out on a busy machine then says what it saw instead.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 90_000,
  detail?: () => Promise<unknown>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const seen = detail ? await detail().then((d) => `; last seen: ${JSON.stringify(d)}`, (e: unknown) => `; (state unreadable: ${String(e)})`) : '';
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}${seen}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
