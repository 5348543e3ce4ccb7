import { destination, pino, type Logger } from 'pino';
import { isProjectId } from '../api/project.js';
import { isTaskId } from '../contract/carousel.js';
import { formatUtcSecond } from '../contract/time.js';
import type { CarouselSample } from '../contract/carousel.js';
import { HttpSampleSink, type SampleSink } from '../probe/sink.js';

/** Flags shared by `livestats probe` and `livestats carousel run`. */
export const STREAM_FLAGS = {
  project: { type: 'string' },
  task: { type: 'string' },
  server: { type: 'string' },
  token: { type: 'string' },
  delay: { type: 'string' },
  'stall-timeout': { type: 'string' },
  'log-level': { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const STREAM_HELP = [
  '  --project <id>           project the task belongs to (required)',
  '  --task <id>              carousel task id (required)',
  '  --server <url>           livestats server receiving the samples [LIVESTATS_SERVER, default http://127.0.0.1:8080]',
  '  --token <token>          sent as X-Auth-Token (required) [LIVESTATS_TOKEN]; a 401 stops the command (exit 1)',
  '  --delay <s>              seconds a second is held for late packets before it is reported (default 3; HLS: 2x segment length)',
  '  --stall-timeout <s>      reconnect after this many seconds without packets (default 5)',
  '  --log-level <level>      info (default), warn, error, debug',
  '  --quiet                  do not print one line per measured second',
];

export interface StreamSetup {
  project: string;
  taskId: string;
  logger: Logger;
  sink: SampleSink;
  bucketer: { emitDelayMs: number; maxLagMs: number };
  stallTimeoutMs: number;
  /** Resolves with a message when the server refuses the token (401): the command should stop, exit 1. */
  authRejected: Promise<string>;
}

const seconds = (text: string | undefined, name: string, def: number, min: number, max: number): number => {
  if (text === undefined) return def;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number of seconds in ${min}..${max}`);
  return n;
};

export const describeSample = (s: CarouselSample): string =>
  `${formatUtcSecond(s.second)}  video ${s.videoFps} fps ${s.videoKbps} kbps  audio ${s.audioFps} fps ${s.audioKbps} kbps`;

/** Validates the shared flags and builds the logger (stderr) and the HTTP sink. Throws with a usage message. */
export function streamSetup(values: Record<string, string | boolean | undefined>): StreamSetup {
  const project = values.project;
  const taskId = values.task;
  if (typeof project !== 'string' || !isProjectId(project)) throw new Error('--project <id> is required (letters, digits, _ and -)');
  if (typeof taskId !== 'string' || !isTaskId(taskId)) throw new Error('--task <id> is required (letters, digits, ._~:@-)');
  const delay = seconds(values.delay as string | undefined, 'delay', 3, 1, 120);
  const stall = seconds(values['stall-timeout'] as string | undefined, 'stall-timeout', 5, 1, 600);
  const logger = pino({ level: (values['log-level'] as string | undefined) ?? 'info' }, destination(2));
  const server = (values.server as string | undefined) ?? process.env.LIVESTATS_SERVER ?? 'http://127.0.0.1:8080';
  if (!/^https?:\/\/\S+$/.test(server)) throw new Error('--server must be an http(s) URL');
  const token = (values.token as string | undefined) || process.env.LIVESTATS_TOKEN;
  if (!token) throw new Error('--token <token> is required (or LIVESTATS_TOKEN): the server refuses samples without one; create one with `npx livestats keys create --project <id>`');
  let rejectAuth: (message: string) => void = () => undefined;
  const authRejected = new Promise<string>((resolve) => {
    rejectAuth = resolve;
  });
  const http = new HttpSampleSink({ server, project, taskId, token, log: logger, onAuthRejected: (m) => rejectAuth(m) });
  const quiet = values.quiet === true;
  const sink: SampleSink = {
    add(samples) {
      if (!quiet) for (const s of samples) process.stdout.write(`${describeSample(s)}\n`);
      http.add(samples);
    },
    close: () => http.close(),
  };
  return {
    project, taskId, logger, sink,
    bucketer: { emitDelayMs: delay * 1000, maxLagMs: Math.max(500, (delay - 1) * 1000) },
    stallTimeoutMs: stall * 1000,
    authRejected,
  };
}

/** Resolves when SIGINT or SIGTERM arrives. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}
