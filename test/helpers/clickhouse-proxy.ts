import { afterAll, beforeAll } from 'vitest';
import { startClickHouse, type ClickHouseServer } from '../harness/clickhouse.js';
import { startFaultyProxy, type FaultyProxy } from '../harness/faulty-proxy.js';

/** A real clickhouse-server behind the fault proxy, started for the calling describe block and stopped after it. */
export interface ClickHouseBehindProxy {
  ch: ClickHouseServer;
  proxy: FaultyProxy;
  /** The store URL of database `name`, through the proxy. */
  url(name: string): string;
}

export function useClickHouseBehindProxy(): ClickHouseBehindProxy {
  const env = {
    url: (name: string): string => `${env.proxy.url.replace('http://', 'http://default:@')}/${name}`,
  } as ClickHouseBehindProxy;
  beforeAll(async () => {
    env.ch = await startClickHouse();
    env.proxy = await startFaultyProxy(env.ch.httpPort);
  });
  afterAll(async () => {
    await env.proxy?.close();
    await env.ch?.destroy();
  });
  return env;
}
