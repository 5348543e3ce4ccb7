import type { CellBatch } from './cells.js';
import { createLineParser } from './formats/presets.js';
import type { FieldMapping } from './formats/json-lines.js';
import { loadGeoOverrides } from './geo/overrides.js';
import { GeoResolver } from './geo/resolver.js';
import { snapshotGate, type NameGate, type NameGateSnapshot } from './name-limits.js';
import { LineProcessor } from './processor.js';

/** Everything needed to build a line processor, plain data so it can cross to a worker thread. */
export interface ProcessorSettings {
  format: string;
  fields?: FieldMapping;
  retentionDays: number;
  /** CSV of CIDR,region,isp checked before ip2region. */
  geoOverridesFile?: string;
  /** The per-project name caps as plain data (parse workers; see NameLimits). */
  names?: NameGateSnapshot;
  /** The domain of lines that log no host and no absolute URL (`ingest --domain`), normalized. */
  defaultDomain?: string;
}

const resolvers = new Map<string, GeoResolver>();

/** One resolver (and its index) per overrides file in a thread. */
export function geoResolver(overridesFile?: string): GeoResolver {
  const key = overridesFile ?? '';
  let r = resolvers.get(key);
  if (!r) {
    r = GeoResolver.create(overridesFile ? loadGeoOverrides(overridesFile) : []);
    resolvers.set(key, r);
  }
  return r;
}

/** Builds a processor; throws FormatError / GeoOverrideError for bad settings. */
export function createProcessor(
  s: ProcessorSettings, sink: (cells: CellBatch) => void, now?: () => number, latin1Input = false,
  /** The project's name caps (on the main thread: the shared NameLimits gate); default: from s.names. */
  names?: NameGate,
): LineProcessor {
  const parser = createLineParser(s.format, { fields: s.fields });
  const gate = names ?? (s.names ? snapshotGate(s.names) : undefined);
  return new LineProcessor({
    parser, geo: geoResolver(s.geoOverridesFile), retentionDays: s.retentionDays, sink, now, latin1Input,
    ...(gate ? { names: gate } : {}),
    ...(s.defaultDomain !== undefined ? { defaultDomain: s.defaultDomain } : {}),
  });
}
