import type { PlayInfoFilter, PortraitFilter, UsersFilter } from '../store/audience.js';
import type { TrafficFilter } from '../store/traffic.js';
import type { HttpCodesFilter, QueryOptions, SampleFilter, Store, WriteBatch } from '../store/types.js';
import type { StoreMetrics } from './store.js';
import type { QualityFilter, QualityRow, QualitySample } from '../store/stream-quality.js';
import type {
  HistoryFilter, LiveStreamsFilter, OriginBatch, PlaySession, PublishSession, SessionPage, StreamCountFilter, UpBandwidthFilter,
} from '../store/origin.js';

/** A store whose reads are timed into livestats_store_query_duration_seconds; everything else passes through. */
export class TimedStore implements Store {
  /**
   * The rendered-body reads exist only when the inner store has them (the routes test for them):
   * timed as the query they answer, with their options (the client-gone signal) passed on.
   */
  readonly httpCodesBody?: Store['httpCodesBody'];
  readonly carouselBody?: Store['carouselBody'];
  readonly releaseBody?: Store['releaseBody'];

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

  writeQuality(rows: readonly QualityRow[]): Promise<void> {
    return this.inner.writeQuality(rows);
  }

  queryQuality(filter: QualityFilter, options?: QueryOptions): Promise<QualitySample[]> {
    return this.metrics.time('queryQuality', () => this.inner.queryQuality(filter, options));
  }

  writeOrigin(batch: OriginBatch): Promise<void> {
    return this.inner.writeOrigin(batch);
  }

  liveStreams(filter: LiveStreamsFilter, options?: QueryOptions): Promise<SessionPage> {
    return this.metrics.time('liveStreams', () => this.inner.liveStreams(filter, options));
  }

  historySessions(filter: HistoryFilter, options?: QueryOptions): Promise<SessionPage> {
    return this.metrics.time('historySessions', () => this.inner.historySessions(filter, options));
  }

  streamCounts(filter: StreamCountFilter, options?: QueryOptions): Promise<Float64Array> {
    return this.metrics.time('streamCounts', () => this.inner.streamCounts(filter, options));
  }

  upBytesSeries(filter: UpBandwidthFilter, options?: QueryOptions): Promise<Float64Array> {
    return this.metrics.time('upBytesSeries', () => this.inner.upBytesSeries(filter, options));
  }

  openSessions(options?: QueryOptions): Promise<PublishSession[]> {
    return this.inner.openSessions(options);
  }

  openPlays(options?: QueryOptions): Promise<PlaySession[]> {
    return this.inner.openPlays(options);
  }

  playSessions(project: string, from: number, to: number, options?: QueryOptions): Promise<PlaySession[]> {
    return this.inner.playSessions(project, from, to, options);
  }

  deleteTrafficBefore(cutoff: number): Promise<void> {
    return this.inner.deleteTrafficBefore(cutoff);
  }

  usersSeries(filter: UsersFilter, options?: QueryOptions): ReturnType<Store['usersSeries']> {
    return this.metrics.time('usersSeries', () => this.inner.usersSeries(filter, options));
  }

  playInfo(filter: PlayInfoFilter, options?: QueryOptions): ReturnType<Store['playInfo']> {
    return this.metrics.time('playInfo', () => this.inner.playInfo(filter, options));
  }

  streamPortrait(filter: PortraitFilter, options?: QueryOptions): ReturnType<Store['streamPortrait']> {
    return this.metrics.time('streamPortrait', () => this.inner.streamPortrait(filter, options));
  }

  audienceDomains(project: string, options?: QueryOptions): ReturnType<Store['audienceDomains']> {
    return this.metrics.time('audienceDomains', () => this.inner.audienceDomains(project, options));
  }

  deleteAudienceBefore(cutoff: number): Promise<void> {
    return this.inner.deleteAudienceBefore(cutoff);
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
