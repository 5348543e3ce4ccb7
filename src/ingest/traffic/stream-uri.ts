import { isStreamName, type StoredProtocol } from '../../contract/traffic/values.js';

/** What a request URI says about the stream it plays (traffic-api.md, "app / stream / protocol"). */
export interface StreamKey {
  readonly app: string;
  readonly stream: string;
  readonly protocol: StoredProtocol;
}

/** A URI that matches none of the shapes: counted in totals, never matched by an app/stream/protocol filter. */
export const OTHER_STREAM: StreamKey = Object.freeze({ app: '', stream: '', protocol: 'other' });

const SEQUENCE_SUFFIX = /^(.+)[-_]\d+$/;
const SEGMENT = /^.+\.(?:ts|m4s|aac)$/;

/** One path segment, percent-decoded when that is valid UTF-8 (else as logged). */
function decodeSegment(s: string): string {
  if (s.indexOf('%') < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The path of a request target: without scheme and authority (absolute form), query or fragment. */
function pathOf(target: string): string {
  let path = target;
  const lower = path.slice(0, 8).toLowerCase();
  const scheme = lower.startsWith('http://') ? 7 : lower.startsWith('https://') ? 8 : 0;
  if (scheme > 0) {
    const rest = path.slice(scheme);
    const end = rest.search(/[/?#]/);
    path = end < 0 || rest.charCodeAt(end) !== 47 ? '' : rest.slice(end);
  }
  const q = path.search(/[?#]/);
  return q < 0 ? path : path.slice(0, q);
}

function key(app: string, stream: string, protocol: StoredProtocol): StreamKey {
  const a = decodeSegment(app);
  const s = decodeSegment(stream);
  return isStreamName(a) && isStreamName(s) ? { app: a, stream: s, protocol } : OTHER_STREAM;
}

/**
 * (app, stream, protocol) of a request URI, exactly the shapes of traffic-api.md:
 * - `/app/stream.flv` -> flv;
 * - `/app/stream.m3u8`, `/app/stream/<segment>.ts|.m4s|.aac` -> hls;
 * - `/app/stream-<digits>.ts`, `/app/stream_<digits>.ts` -> hls, the sequence suffix dropped;
 * - anything else -> OTHER_STREAM.
 * The query string (and a fragment) is ignored; an absolute-form target (`http://host/app/...`) is
 * read by its path. Segments are percent-decoded; extensions are matched as written (lower case).
 */
export function streamOfUri(target: string): StreamKey {
  const path = pathOf(target);
  if (path.charCodeAt(0) !== 47) return OTHER_STREAM;
  const parts = path.slice(1).split('/');
  if (parts.length === 3) {
    const [app, stream, segment] = parts as [string, string, string];
    return SEGMENT.test(segment) ? key(app, stream, 'hls') : OTHER_STREAM;
  }
  if (parts.length !== 2) return OTHER_STREAM;
  const [app, file] = parts as [string, string];
  if (file.endsWith('.flv')) return key(app, file.slice(0, -4), 'flv');
  if (file.endsWith('.m3u8')) return key(app, file.slice(0, -5), 'hls');
  if (file.endsWith('.ts')) {
    const m = SEQUENCE_SUFFIX.exec(file.slice(0, -3));
    return m ? key(app, m[1] as string, 'hls') : OTHER_STREAM;
  }
  return OTHER_STREAM;
}
