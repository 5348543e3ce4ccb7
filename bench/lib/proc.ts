import { spawn, type ChildProcess } from 'node:child_process';

export interface Server {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Spawns a Node server process and waits for its "listening on <url>" line; `output` gets all of its stdout, from the start. */
export function startProcess(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000, output?: (d: Buffer) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no "listening on" line within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      output?.(d);
      out += d.toString();
      const m = /listening on (http:\/\/[\d.:[\]]+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        if (output) child.stdout?.on('data', output);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve({
          url: m[1], child,
          stop: () => new Promise<void>((r) => {
            if (child.exitCode !== null) return r();
            child.once('exit', () => r());
            child.kill('SIGTERM');
          }),
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${out}`));
    });
  });
}
