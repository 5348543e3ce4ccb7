import { formatUtcSecond } from '../../src/contract/time.js';
import { call, keepAliveAgent, type ErrorLog } from './http.js';
import type { CountModel } from './model.js';

const MIN = 60_000;

interface Series {
  data_series: Array<{ time: string; http_codes: Array<{ code: number; count: number }> }>;
}

export interface QueryStats {
  queries: number;
  latencies: number[];
  polls: number;
}

/**
 * `connections` clients, each on its own keep-alive connection, asking both endpoints in turn with
 * moving windows. Without region/isp filters every count must be <= what was generated (never a
 * double count), and every answer must have the contract's shape.
 */
export function startQueries(o: {
  base: URL; project: string; token: string; domains: string[]; task: string; model: CountModel; startedAt: number;
  connections: number; errors: ErrorLog; stats: QueryStats; pauseMs: number;
}): () => Promise<void> {
  let stopped = false;
  const loops: Array<Promise<void>> = [];
  const headers = { 'x-auth-token': o.token };
  for (let c = 0; c < o.connections; c++) {
    const agent = keepAliveAgent(1);
    loops.push((async () => {
      let i = c;
      while (!stopped) {
        i++;
        const now = Date.now();
        try {
          if (i % 3 === 0) {
            const spanS = 60 + (i * 37) % 3000;
            const q = `carousel_task_id=${o.task}&start_time=${formatUtcSecond(now - spanS * 1000)}&end_time=${formatUtcSecond(now)}`;
            const res = await call(agent, o.base, 'GET', `/v2/${o.project}/stats/carousel-task/detail?${q}`, headers);
            o.stats.latencies.push(res.ms);
            const body = JSON.parse(res.body) as { video_framerate_list?: unknown[] };
            if (res.status !== 200 || !Array.isArray(body.video_framerate_list)) o.errors.add('carousel-query', `${res.status} ${res.body.slice(0, 200)}`);
          } else {
            const minutes = 1 + (i * 13) % 60;
            const from = i % 5 === 0 ? o.startedAt : now - minutes * MIN;
            const doms = i % 2 === 0 ? o.domains : [o.domains[i % o.domains.length] as string];
            const filter = i % 7 === 0 ? '&region=GD&isp=CTCC' : '';
            const q = `play_domains=${doms.join(',')}&start_time=${formatUtcSecond(from)}&end_time=${formatUtcSecond(now + MIN)}${filter}`;
            const res = await call(agent, o.base, 'GET', `/v2/${o.project}/stats/httpcodes?${q}`, headers);
            o.stats.latencies.push(res.ms);
            if (res.status !== 200) o.errors.add('httpcodes-query', `${res.status} ${res.body.slice(0, 200)}`);
            else if (!filter) checkNotAbove(JSON.parse(res.body) as Series, doms, o.model, o.errors);
          }
          o.stats.queries++;
        } catch (err) {
          o.errors.add('query-connection', String(err));
        }
        await new Promise((r) => setTimeout(r, o.pauseMs));
      }
      agent.destroy();
    })());
  }
  return async () => {
    stopped = true;
    await Promise.all(loops);
  };
}

function checkNotAbove(s: Series, domains: readonly string[], model: CountModel, errors: ErrorLog): void {
  if (!Array.isArray(s.data_series)) {
    errors.add('httpcodes-shape', JSON.stringify(s).slice(0, 200));
    return;
  }
  for (const slot of s.data_series) {
    const minute = Date.parse(slot.time);
    for (const c of slot.http_codes) {
      const generated = domains.reduce((n, d) => n + model.get(d, minute, c.code), 0);
      if (c.count > generated) errors.add('double-count', `${slot.time} code ${c.code}: ${c.count} > ${generated} generated`);
    }
  }
}

/** What the dashboard does every 10 s: its page and config, health, the playback view (1 h) and the carousel view. */
export function startPoller(o: { base: URL; project: string; token: string; domains: string[]; task: string; errors: ErrorLog; stats: QueryStats; everyMs: number }): () => Promise<void> {
  const agent = keepAliveAgent(2);
  const headers = { 'x-auth-token': o.token };
  let running = Promise.resolve();
  const poll = async (): Promise<void> => {
    const now = Date.now();
    const paths = [
      '/', '/dashboard/config.json', '/healthz',
      `/v2/${o.project}/stats/httpcodes?play_domains=${o.domains.join(',')}&start_time=${formatUtcSecond(now - 3600_000)}&end_time=${formatUtcSecond(now)}`,
      `/v2/${o.project}/stats/carousel-task/detail?carousel_task_id=${o.task}&start_time=${formatUtcSecond(now - 3600_000)}&end_time=${formatUtcSecond(now)}`,
    ];
    try {
      const answers = await Promise.all(paths.map((p) => call(agent, o.base, 'GET', p, p.startsWith('/v2/') ? headers : {})));
      answers.forEach((a, k) => {
        if (a.status !== 200) o.errors.add('dashboard-poll', `${paths[k]} ${a.status} ${a.body.slice(0, 200)}`);
      });
      o.stats.polls++;
    } catch (err) {
      o.errors.add('dashboard-poll', String(err));
    }
  };
  const timer = setInterval(() => {
    running = running.then(poll);
  }, o.everyMs);
  return async () => {
    clearInterval(timer);
    await running;
    agent.destroy();
  };
}
