// Splits a V8 CPU profile (node --cpu-prof) of a serving process into the phases of one answer, in µs per answer:
//
//   node dist/bench/lib/profile-phases.js <file.cpuprofile>... --answers <n> [--last-seconds <s>] [--top <n>]
//
// Each sample counts one sampling interval (--interval-us: node's --cpu-prof-interval, default 1000), not the wall time to the
// next sample: on a busy machine a thread descheduled inside a system call would otherwise be charged the time it
// waited for a core. Only the last `--last-seconds` of each profile are read (the load, not the start-up). A sample
// goes to the phase of its innermost frame with a known file (the table below, first match); GC and "(program)" stay
// as they are. Several files (the main thread and the worker threads of one process) are summed.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { table } from './table.js';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface Profile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

/** Phases by the file (or native function) a frame is in; the first match wins. */
const PHASES: Array<[string, RegExp]> = [
  ['store work (worker)', /src\/store\/(sqlite\/(audience|reads|bodies|traffic|origin|stream)|blocks\/)|src\/contract\/.*-body|json-bytes|better-sqlite3/],
  ['worker hop', /read-pool|read-worker|worker-host|worker-port|internal\/worker|messageport|^postMessage$/],
  ['auth', /src\/api\/auth|src\/auth\/|src\/api\/project|crypto\/hash|^hash$/],
  ['request id, logging', /crypto\/random|pino|logger-factory|src\/api\/app\.js/],
  ['query slot, cancelling', /query-admission|query-slots|abort_controller|event_target/],
  ['metrics', /prom-client|src\/metrics\/|src\/api\/metrics/],
  ['query parsing, answer shaping', /src\/contract\/|domainToASCII|fast-querystring|src\/api\/routes\//],
  ['store, other code (any thread)', /src\/store\/|undici|_http_client/],
  ['Fastify (routing, hooks, reply)', /fastify|find-my-way|src\/api\//],
  ['node:http, sockets (incl. writev)', /_http_|streams\/|stream_base|node:net|^writev$|^writeUtf8String$|^writeBuffer$|^read$|internal\/timers|node:timers|^getLibuvNow$/],
  ['promises, ticks, events', /task_queues|runMicrotasks|node:events/],
];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    answers: { type: 'string' }, 'last-seconds': { type: 'string', default: '1e9' }, top: { type: 'string', default: '0' },
    'interval-us': { type: 'string', default: '1000' },
  },
});
const answers = Number(values.answers);
if (!(answers > 0)) throw new Error('--answers: the number of answers the profiled load served');
const windowUs = Number(values['last-seconds']) * 1e6;
const phases = new Map<string, number>();
const functions = new Map<string, number>();
const intervalUs = Number(values['interval-us']);
const profiles = positionals.map((file) => JSON.parse(readFileSync(file, 'utf8')) as Profile);
// The threads of one process share the profiler's clock: the window ends where the last profile does.
const lastEnd = Math.max(...profiles.map((p) => p.endTime));
for (const p of profiles) {
  const n = p.samples.length;
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const parent = new Map<number, number>();
  for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
  const phaseOf = new Map<number, string>();
  const phaseOfNode = (id: number): string => {
    const known = phaseOf.get(id);
    if (known !== undefined) return known;
    let cur: number | undefined = id;
    let phase = 'other';
    while (cur !== undefined) {
      const cf = (byId.get(cur) as ProfileNode).callFrame;
      const name = cf.url === '' ? cf.functionName : cf.url;
      if (cf.url === '' && (name === '(garbage collector)' || name === '(program)')) { phase = name; break; }
      const hit = PHASES.find(([, re]) => re.test(name));
      if (hit) { phase = hit[0]; break; }
      cur = parent.get(cur);
    }
    phaseOf.set(id, phase);
    return phase;
  };
  let t = p.startTime;
  const from = lastEnd - windowUs;
  for (let i = 0; i < n; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (t < from) continue;
    const id = p.samples[i] as number;
    const cf = (byId.get(id) as ProfileNode).callFrame;
    if (cf.functionName === '(idle)') continue;
    const phase = phaseOfNode(id);
    phases.set(phase, (phases.get(phase) ?? 0) + intervalUs);
    const fn = `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, '')}:${cf.lineNumber}`;
    functions.set(fn, (functions.get(fn) ?? 0) + intervalUs);
  }
}
const busy = [...phases.values()].reduce((a, b) => a + b, 0);
const rows: Array<Array<string | number>> = [...phases].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / answers, (100 * v) / busy]);
rows.push(['all (busy)', busy / answers, 100]);
console.log(table(['phase', 'µs per answer', '%'], rows));
const top = Number(values.top);
if (top > 0) {
  console.log(`\n${table(['function (self)', 'µs per answer'], [...functions].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => [k, v / answers]))}`);
}
