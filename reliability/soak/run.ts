import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatUtcSecond } from '../../src/contract/time.js';
import { cliPath, createKeys, rssBytes, startServe, tempData } from '../lib/server.js';
import { writeSection } from '../report.js';
import { call, ErrorLog, keepAliveAgent } from './http.js';
import { CountModel, LineMaker } from './model.js';
import { startPoller, startQueries, type QueryStats } from './queries.js';
import { soakMarkdown, type SoakResult } from './report.js';
import { batchWay, followWay, httpWay, poisonTenant, syslogWay, type Way } from './ways.js';

const HELP = `Usage: npm run soak -- [--minutes 30] [--rate 24000] [--warmup MIN] [--ack-limit-ms 2000] [--batch-limit-ms 10000] [--no-report]

Runs a real livestats server (own process) under steady ingest through all four ways (batch CLI,
--follow, syslog, HTTP) at --rate lines/s in total, 10 query connections and a dashboard-like
poller; checks memory after warm-up, errors, ack latencies (an HTTP ack within --ack-limit-ms, a
batch run within --batch-limit-ms) and every count against the model.
A run of 30 minutes or more writes its figures into RELIABILITY.md.`;

const MIN = 60_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string' }, rate: { type: 'string' }, warmup: { type: 'string' }, 'no-report': { type: 'boolean' },
      'ack-limit-ms': { type: 'string' }, 'batch-limit-ms': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const minutes = Number(values.minutes ?? 30);
  const rate = Number(values.rate ?? 24_000);
  const warmupMin = Number(values.warmup ?? Math.min(5, minutes / 3));
  const ackLimitMs = Number(values['ack-limit-ms'] ?? 2000);
  const batchLimitMs = Number(values['batch-limit-ms'] ?? 10_000);
  const durationMs = minutes * MIN;
  const tmp = tempData('soak');
  const dataDir = join(tmp.dir, 'data');
  const project = 'soak';
  const task = 'soak-task';
  const errors = new ErrorLog();
  const model = new CountModel();
  const syslogPort = await freePort();
  const keys = await createKeys(dataDir, project);
  const poisonKeys = await createKeys(dataDir, `${project}-poison`);
  const server = await startServe(['--data', dataDir, '--log-level', 'warn', '--syslog', `tcp://127.0.0.1:${syslogPort}`, '--syslog-project', project, '--syslog-format', 'combined_host']);
  const base = new URL(server.url);
  const followFile = join(tmp.dir, 'follow.log');
  writeFileSync(followFile, '');
  const follower = spawn(process.execPath, [cliPath(), 'ingest', '--follow', '--project', project, '--format', 'combined_host', '--data', dataDir, followFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let followerErr = '';
  follower.stderr.on('data', (d: Buffer) => (followerErr += d.toString()));
  const startedAt = Date.now();
  console.log(`soak: server ${server.url} (pid ${server.pid}), ${minutes} min at ${rate} lines/s, warm-up ${warmupMin} min, data in ${tmp.dir}`);
  try {
    const ingestAgent = keepAliveAgent(8);
    const shares: Array<[string, number]> = [['http.soak.test', 0.4], ['follow.soak.test', 0.25], ['syslog.soak.test', 0.2], ['batch.soak.test', 0.15]];
    const makers = shares.map(([d]) => new LineMaker(d, model));
    const ways: Way[] = [
      httpWay(makers[0] as LineMaker, ingestAgent, base, project, keys.token, errors),
      followWay(makers[1] as LineMaker, followFile, errors),
      await syslogWay(makers[2] as LineMaker, syslogPort, errors),
      batchWay(makers[3] as LineMaker, tmp.dir, dataDir, project, errors),
    ];
    const domains = shares.map(([d]) => d);
    // A second tenant sending extreme values the whole run (see poisonTenant), on its own connections.
    const poisonAgent = keepAliveAgent(2);
    const poison = poisonTenant(poisonAgent, base, `${project}-poison`, poisonKeys.token, errors);
    // Carousel telemetry, one sample per second, as a probe would post it (the first before any query).
    const samples = new Map<number, number>();
    const sampleAgent = keepAliveAgent(1);
    const postSample = async (): Promise<void> => {
      const second = Math.floor(Date.now() / 1000) * 1000 - 1000;
      const fps = 20 + (second / 1000) % 10;
      samples.set(second, fps);
      const body = JSON.stringify([{ time: formatUtcSecond(second), video_fps: fps, video_kbps: 2000, audio_fps: 43, audio_kbps: 128 }]);
      const r = await call(sampleAgent, base, 'POST', `/ingest/v1/${project}/carousel-tasks/${task}/samples`, { 'content-type': 'application/json', 'x-auth-token': keys.token }, body);
      if (r.status !== 200) errors.add('samples', `${r.status} ${r.body}`);
    };
    await postSample();
    const sampleTimer = setInterval(() => {
      postSample().catch((err: unknown) => errors.add('samples', String(err)));
    }, 1000);
    const qstats: QueryStats = { queries: 0, latencies: [], polls: 0 };
    const stopQueries = startQueries({ base, project, token: keys.token, domains, task, model, startedAt, connections: 10, errors, stats: qstats, pauseMs: 100 });
    const stopPoller = startPoller({ base, project, token: keys.token, domains, task, errors, stats: qstats, everyMs: 10_000 });
    // Memory: the server's RSS every 5 s.
    const rss: Array<{ t: number; bytes: number }> = [];
    const rssTimer = setInterval(() => {
      rssBytes(server.pid).then((b) => rss.push({ t: Date.now() - startedAt, bytes: b }), (err: unknown) => errors.add('rss', String(err)));
    }, 5000);
    // The generator: every 100 ms each way gets the lines that keep it at its share of the rate.
    const fed = ways.map(() => 0);
    let lastLog = Date.now();
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const now = Date.now();
        const elapsed = now - startedAt;
        if (elapsed >= durationMs) {
          clearInterval(tick);
          resolve();
          return;
        }
        ways.forEach((w, k) => {
          const due = Math.floor(rate * (shares[k] as [string, number])[1] * elapsed / 1000) - (fed[k] as number);
          if (due > 0) {
            w.feed(now, due);
            fed[k] = (fed[k] as number) + due;
          }
        });
        if (now - lastLog > 60_000) {
          lastLog = now;
          const last = rss[rss.length - 1];
          console.log(`soak: ${Math.round(elapsed / 1000)} s, ${fed.reduce((a, b) => a + b, 0)} lines, ${qstats.queries} queries, RSS ${last ? (last.bytes / 2 ** 20).toFixed(1) : '?'} MiB, errors ${errors.total}`);
        }
      }, 100);
    });
    const endedAt = Date.now();
    clearInterval(sampleTimer);
    clearInterval(rssTimer);
    await stopQueries();
    await stopPoller();
    for (const w of ways) await w.drain();
    await poison.stop();
    poisonAgent.destroy();
    ingestAgent.destroy();
    // Drain: everything generated must become visible through the API.
    const drainStart = Date.now();
    const totals = async (): Promise<number[]> => Promise.all(domains.map(async (d) => {
      const res = await call(sampleAgent, base, 'GET', `/v2/${project}/stats/httpcodes?play_domains=${d}&start_time=${formatUtcSecond(Math.floor(startedAt / MIN) * MIN)}&end_time=${formatUtcSecond(Date.now() + MIN)}`, { 'x-auth-token': keys.token });
      const s = JSON.parse(res.body) as { data_series: Array<{ http_codes: Array<{ count: number }> }> };
      return s.data_series.reduce((n, e) => n + e.http_codes.reduce((m, c) => m + c.count, 0), 0);
    }));
    let seen = await totals();
    while (Date.now() - drainStart < 60_000 && seen.some((v, k) => v < model.total(domains[k] as string))) {
      await new Promise((r) => setTimeout(r, 500));
      seen = await totals();
    }
    const drainMs = Date.now() - drainStart;
    // Exact check, per (domain, minute, code), through the public API.
    const perWay = await Promise.all(domains.map(async (d, k) => {
      const res = await call(sampleAgent, base, 'GET', `/v2/${project}/stats/httpcodes?play_domains=${d}&start_time=${formatUtcSecond(Math.floor(startedAt / MIN) * MIN)}&end_time=${formatUtcSecond(Date.now() + MIN)}`, { 'x-auth-token': keys.token });
      const s = JSON.parse(res.body) as { data_series: Array<{ time: string; http_codes: Array<{ code: number; count: number }> }> };
      let lost = 0;
      let double = 0;
      const stored = new Map<string, number>();
      for (const e of s.data_series) for (const c of e.http_codes) if (c.count > 0) stored.set(`${Date.parse(e.time)}:${c.code}`, c.count);
      for (const m of model.minutes(d)) {
        for (const [code, want] of model.codes(d, m)) {
          const got = stored.get(`${m}:${code}`) ?? 0;
          stored.delete(`${m}:${code}`);
          if (got < want) lost += want - got;
          if (got > want) double += got - want;
        }
      }
      for (const v of stored.values()) double += v;
      const w = ways[k] as Way;
      return { name: w.name, domain: d, generated: model.total(d), lost, double, acks: w.acks, rate: w.sent / ((endedAt - startedAt) / 1000) };
    }));
    // Carousel samples: every posted second reads back.
    const cq = `carousel_task_id=${task}&start_time=${formatUtcSecond(Math.max(startedAt, Date.now() - 3 * 3600_000 + MIN))}&end_time=${formatUtcSecond(Date.now())}`;
    const cres = JSON.parse((await call(sampleAgent, base, 'GET', `/v2/${project}/stats/carousel-task/detail?${cq}`, { 'x-auth-token': keys.token })).body) as { start_time: string; video_framerate_list: number[] };
    const cStart = Date.parse(cres.start_time);
    let samplesWrong = 0;
    for (const [second, fps] of samples) {
      const i = (second - cStart) / 1000;
      if (i >= 0 && i < cres.video_framerate_list.length && cres.video_framerate_list[i] !== fps) samplesWrong++;
    }
    // The poison tenant's requests read back as counted (its bytes saturate; its requests never do);
    // its lines are timed 30 s back, so the window starts before the run's first minute.
    const pq = `play_domains=poison.soak.test&start_time=${formatUtcSecond(Math.floor(startedAt / MIN) * MIN - 2 * MIN)}&end_time=${formatUtcSecond(Date.now() + MIN)}`;
    const pres = JSON.parse((await call(sampleAgent, base, 'GET', `/v2/${project}-poison/stats/httpcodes?${pq}`, { 'x-auth-token': poisonKeys.token })).body) as { data_series: Array<{ http_codes: Array<{ count: number }> }> };
    const poisonStored = pres.data_series.reduce((n, e) => n + e.http_codes.reduce((m, c) => m + c.count, 0), 0);
    if (poisonStored !== poison.stats.accepted) errors.add('poison-tenant', `stored ${poisonStored} requests, ${poison.stats.accepted} acknowledged`);
    sampleAgent.destroy();
    follower.kill('SIGTERM');
    const followerExit = await new Promise<number | null>((r) => follower.on('exit', (c) => r(c)));
    const serverExit = await server.stop();
    const serverErrors = server.output().split('\n').filter((l) => /"level":(50|60)/.test(l));
    for (const l of serverErrors.slice(0, 5)) errors.add('server-log', l);
    if (serverErrors.length > 5) errors.add('server-log', `${serverErrors.length - 5} more error lines`);
    if (followerExit !== 0) errors.add('follower', `exit ${followerExit}: ${followerErr.slice(-300)}`);
    if (serverExit !== 0) errors.add('server', `exit ${serverExit}`);
    if (samplesWrong > 0) errors.add('samples', `${samplesWrong} seconds read back wrong`);
    const result: SoakResult = {
      startedAt: new Date(startedAt), minutes, rate, warmupMin, ackLimitMs, batchLimitMs, seconds: (endedAt - startedAt) / 1000, drainMs, perWay, rss,
      queries: qstats.queries, queryLatencies: qstats.latencies, polls: qstats.polls, samples: samples.size, samplesWrong, errors,
      poison: { ...poison.stats, stored: poisonStored },
    };
    const { markdown, pass } = soakMarkdown(result);
    console.log(`\n${markdown}\n`);
    if (minutes >= 30 && !values['no-report']) {
      writeSection('soak', markdown);
      console.log('RELIABILITY.md: soak section written');
    }
    console.log(pass ? 'soak: PASS' : 'soak: FAIL');
    return pass ? 0 : 1;
  } finally {
    if (follower.exitCode === null) follower.kill('SIGKILL');
    await server.stop();
    tmp.remove();
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
