/** Why a line was not counted. Every ingest step returns ok or one of these; none throws. */
export type DropReason =
  | 'parse' | 'bad_status' | 'bad_time' | 'bad_domain' | 'too_old' | 'future' | 'bad_bytes'
  | 'domain_limit' | 'stream_limit' | 'id_space_full';

/**
 * bad_bytes: the line claims more than MAX_LINE_BYTES. domain_limit / stream_limit: the line names a
 * domain / stream its project does not have yet and the project is at --max-domains / --max-streams;
 * id_space_full: the store has no series id left for a new name (docs/storage.md).
 */
export const DROP_REASONS: readonly DropReason[] = [
  'parse', 'bad_status', 'bad_time', 'bad_domain', 'too_old', 'future', 'bad_bytes', 'domain_limit', 'stream_limit', 'id_space_full',
];

/**
 * Most bytes one logged request may claim (1 TiB, far above any real response): a line claiming more is
 * dropped as `bad_bytes`. With it a minute cell needs 8,192 such lines before its sum reaches the largest
 * value a store keeps (MAX_CELL_VALUE, where sums saturate), so one line can never make a batch unstorable.
 */
export const MAX_LINE_BYTES = 2 ** 40;

/**
 * What a format parser extracts from one line, written into a reused object (no allocation per line).
 * Strings are '' when absent; numbers are NaN when absent.
 */
export interface ParsedLine {
  remoteAddr: string;
  forwardedFor: string;
  /** Epoch ms, NaN when no time variable was logged or it did not parse. */
  time: number;
  /** Set when a time variable was present but unparseable. */
  badTime: boolean;
  host: string;
  request: string;
  /** The request target when logged on its own ($request_uri / $uri, JSON `uri`); else '' (then taken from `request`). */
  uri: string;
  status: string;
  /** $bytes_sent (whole response), NaN when not logged. */
  bytes: number;
  /** $body_bytes_sent, NaN when not logged; used when $bytes_sent is absent. */
  bodyBytes: number;
  requestTime: number;
}

export function newParsedLine(): ParsedLine {
  return { remoteAddr: '', forwardedFor: '', time: NaN, badTime: false, host: '', request: '', uri: '', status: '', bytes: NaN, bodyBytes: NaN, requestTime: NaN };
}

export function resetParsedLine(p: ParsedLine): void {
  p.remoteAddr = '';
  p.forwardedFor = '';
  p.time = NaN;
  p.badTime = false;
  p.host = '';
  p.request = '';
  p.uri = '';
  p.status = '';
  p.bytes = NaN;
  p.bodyBytes = NaN;
  p.requestTime = NaN;
}

/** A compiled format: parses one line (without its newline) into `out`; returns a reason when it cannot. */
export interface LineParser {
  readonly name: string;
  /**
   * 'latin1': the parser only needs ASCII structure, so bytes may be decoded one-to-one (fast);
   * non-ASCII values are re-decoded as UTF-8 where they matter (the host). 'utf8': decode as UTF-8.
   */
  readonly encoding: 'latin1' | 'utf8';
  parse(line: string, out: ParsedLine): DropReason | undefined;
}
