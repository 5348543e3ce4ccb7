import type { TrafficFilter } from '../store/traffic.js';
import type { HttpCodesFilter, QueryOptions, SampleFilter, Store, WriteBatch } from '../store/types.js';
import type { StoreMetrics } from './store.js';

/** A store whose reads are timed into livestats_store_query_duration_seconds; everything else passes through. */
export class TimedStore implements Store {
  /**
   * The rendered-body reads exist only when the inner store has them (the routes test for them):
   * timed as the query they answer, with their options (the client-gone signal) passed on.
   */
  readonly httpCodesBody?: Store['httpCodesBody'];
  readonly carouselBody?: Store['carouselBody'];
  readonly releaseBody?: Store['releaseBody'];
  /** Passed through when the inner store has it (the dashboard's names route and the name caps read it). */
  readonly storedNames?: Store['storedNames'];

  constructor(private readonly inner: Store, private readonly metrics: StoreMetrics) {
    const { httpCodesBody, carouselBody, releaseBody } = inner;
    if (httpCodesBody) {
      this.httpCodesBody = (filter: HttpCodesFilter, codes: readonly number[], options?: QueryOptions): Promise<Uint8Array> =>
        this.metrics.time('queryHttpCodes', () => httpCodesBody.call(inner, filter, codes, options));
    }
    if (carouselBody) {
      this.carouselBody = (filter: SampleFilter, options?: QueryOptions): Promise<Uint8Array> =>
        this.metrics.time('querySamples', () => carouselBody.call(inner, filter, options));
    }
    if (releaseBody) this.releaseBody = (bytes: Uint8Array): void => releaseBody.call(inner, bytes);
    const { storedNames } = inner;
    if (storedNames) this.storedNames = (project: string) => storedNames.call(inner, project);
  }

  get kind(): string {
    return this.inner.kind;
  }

  get writesPacked(): boolean {
    return this.inner.writesPacked === true;
  }

  init(): Promise<void> {
    return this.inner.init();
  }

  write(batch: WriteBatch): Promise<void> {
    return this.inner.write(batch);
  }

  // Every read passes its options on: the client-gone signal must reach the store (issue 11).
  queryHttpCodes(filter: HttpCodesFilter, options?: QueryOptions): ReturnType<Store['queryHttpCodes']> {
    return this.metrics.time('queryHttpCodes', () => this.inner.queryHttpCodes(filter, options));
  }

  querySamples(filter: SampleFilter, options?: QueryOptions): ReturnType<Store['querySamples']> {
    return this.metrics.time('querySamples', () => this.inner.querySamples(filter, options));
  }

  taskExists(project: string, taskId: string, options?: QueryOptions): Promise<boolean> {
    return this.metrics.time('taskExists', () => this.inner.taskExists(project, taskId, options));
  }

  trafficSeries(filter: TrafficFilter, options?: QueryOptions): ReturnType<Store['trafficSeries']> {
    return this.metrics.time('trafficSeries', () => this.inner.trafficSeries(filter, options));
  }

  trafficByDomain(filter: TrafficFilter, options?: QueryOptions): ReturnType<Store['trafficByDomain']> {
    return this.metrics.time('trafficByDomain', () => this.inner.trafficByDomain(filter, options));
  }

  trafficDomains(project: string, options?: QueryOptions): ReturnType<Store['trafficDomains']> {
    return this.metrics.time('trafficDomains', () => this.inner.trafficDomains(project, options));
  }

  deleteTrafficBefore(cutoff: number): Promise<void> {
    return this.inner.deleteTrafficBefore(cutoff);
  }

  listTasks(project: string): ReturnType<Store['listTasks']> {
    return this.metrics.time('listTasks', () => this.inner.listTasks(project));
  }

  getCheckpoint(key: string): Promise<string | undefined> {
    return this.metrics.time('getCheckpoint', () => this.inner.getCheckpoint(key));
  }

  getMeta(key: string): Promise<string | undefined> {
    return this.inner.getMeta(key);
  }

  setMeta(key: string, value: string): Promise<void> {
    return this.inner.setMeta(key, value);
  }

  deleteBefore(cutoff: number): Promise<void> {
    return this.inner.deleteBefore(cutoff);
  }

  deleteCheckpointsBefore(prefix: string, cutoff: number): Promise<void> {
    return this.inner.deleteCheckpointsBefore ? this.inner.deleteCheckpointsBefore(prefix, cutoff) : Promise.resolve();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
