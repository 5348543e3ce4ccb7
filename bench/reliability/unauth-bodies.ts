import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { rssKiB } from '../../reliability/lib/server.js';

/**
 * Memory of a real `livestats serve` process while connections without credentials each send a
 * large ingest body: resident memory before, at its peak and after they are gone, and whether
 * the 401 came before each body was sent whole. `node dist/bench/reliability/unauth-bodies.js
 * [--old <checkout built with tsc>]` prints the table of RELIABILITY.md "Unauthenticated bodies".
 */
export interface UnauthBodiesResult {
  baselineMiB: number;
  peakMiB: number;
  afterMiB: number;
  /** Connections whose 401 arrived before their whole body had been sent. */
  earlyRefusals: number;
  connections: number;
  bodyMiB: number;
}

const rssMiB = (pid: number): number => rssKiB(pid) / 1024;

/** What the requests carry: nothing, or an AK/SK `Authorization` of the right shape with an AK the server does not know. */
export type Credentials = 'none' | 'unknown-ak';

function credentialHeaders(c: Credentials): string {
  if (c === 'none') return '';
  const date = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return `X-Sdk-Date: ${date}\r\nAuthorization: SDK-HMAC-SHA256 Access=UNKNOWNAK00000000000, SignedHeaders=host;x-sdk-date, Signature=${'0'.repeat(64)}\r\n`;
}

/** Sends one POST of `bytes` (256 KiB pieces, with backpressure) until answered; true when answered before the end. */
function oneBody(port: number, bytes: number, credentials: Credentials): Promise<boolean> {
  return new Promise((done) => {
    const piece = Buffer.alloc(256 * 1024, 0x61);
    let sent = 0;
    let answered = false;
    let finished = false;
    const finish = (early: boolean): void => {
      if (finished) return;
      finished = true;
      s.destroy();
      done(early);
    };
    const s = connect(port, '127.0.0.1', () => {
      s.write(`POST /ingest/v1/default/access-logs?format=combined_host HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n` +
        `${credentialHeaders(credentials)}Content-Length: ${bytes}\r\n\r\n`);
      const pump = (): void => {
        while (!answered && sent < bytes) {
          sent += piece.length;
          if (!s.write(piece)) {
            s.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    let text = '';
    s.on('data', (d: Buffer) => {
      text += d.toString();
      if (!answered && text.includes('\r\n\r\n')) {
        answered = true;
        finish(sent < bytes);
      }
    });
    s.on('error', () => finish(false));
    s.on('close', () => finish(false));
  });
}

/** Starts `<root>/bin/livestats.js serve`, sends `connections` bodies of `bodyMiB` at once, measures. */
export async function measureUnauthBodies(root: string, connections = 8, bodyMiB = 64, credentials: Credentials = 'none'): Promise<UnauthBodiesResult> {
  const data = mkdtempSync(join(tmpdir(), 'livestats-unauth-'));
  const child = spawn(process.execPath, [join(root, 'bin', 'livestats.js'), 'serve', '--port', '0', '--data', data, '--log-level', 'warn'], { stdio: 'pipe' });
  try {
    let out = '';
    const port = await new Promise<number>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`server did not start: ${out}`)), 60_000);
      const on = (d: Buffer): void => {
        out += d.toString();
        const m = /listening on http:\/\/[\d.]+:(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          ok(Number(m[1]));
        }
      };
      child.stdout.on('data', on);
      child.stderr.on('data', on);
    });
    const pid = child.pid as number;
    await new Promise((r) => setTimeout(r, 1000));
    const baselineMiB = rssMiB(pid);
    let peakMiB = baselineMiB;
    const sampler = setInterval(() => (peakMiB = Math.max(peakMiB, rssMiB(pid))), 20);
    const early = await Promise.all(Array.from({ length: connections }, () => oneBody(port, bodyMiB * 1024 * 1024, credentials)));
    await new Promise((r) => setTimeout(r, 2000));
    clearInterval(sampler);
    const afterMiB = rssMiB(pid);
    peakMiB = Math.max(peakMiB, afterMiB);
    return { baselineMiB, peakMiB, afterMiB, earlyRefusals: early.filter(Boolean).length, connections, bodyMiB };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(data, { recursive: true, force: true });
  }
}

const row = (name: string, c: Credentials, r: UnauthBodiesResult): string =>
  `| ${name} | ${c === 'none' ? 'none' : 'AK/SK, unknown AK'} | ${r.baselineMiB.toFixed(0)} | ${r.peakMiB.toFixed(0)} | ${r.afterMiB.toFixed(0)} | ${r.earlyRefusals} of ${r.connections} |`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const oldAt = args.indexOf('--old');
  const here = resolve(import.meta.dirname, '..', '..', '..');
  const lines = ['| build | credentials | RSS before (MiB) | RSS peak (MiB) | RSS 2 s after (MiB) | 401 before the body was sent whole |', '|---|---|---|---|---|---|'];
  const old = oldAt >= 0 ? args[oldAt + 1] : undefined;
  for (const c of ['none', 'unknown-ak'] as const) {
    if (old) lines.push(row('before', c, await measureUnauthBodies(resolve(old), 8, 64, c)));
    lines.push(row('after', c, await measureUnauthBodies(here, 8, 64, c)));
  }
  process.stdout.write(lines.join('\n') + '\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
