import { normalizeDomain } from '../contract/domain.js';
import { isStreamName } from '../contract/traffic/values.js';

/**
 * What an origin tells livestats about one client, whichever origin sent it: nginx-rtmp's HTTP
 * notifications (form fields) or SRS's JSON hooks. Pure parsing; src/origin/tracker.ts applies them.
 */
export type OriginEventKind = 'publish' | 'publish_done' | 'update' | 'play' | 'play_done';

export interface OriginEvent {
  kind: OriginEventKind;
  /** The origin's name (the notify URL's `origin` parameter, else the notifier's address). */
  origin: string;
  /** The origin's id of the client connection (nginx: clientid, SRS: client_id). */
  clientId: string;
  app: string;
  stream: string;
  /** The client's address ('' when not given). */
  addr: string;
  /** The publish domain: the host of tcurl (or the configured one), normalized; undefined when unknown. */
  domain: string | undefined;
  /** nginx: the client's flashver (relays send a recognizable one). */
  flashver: string;
  /** update: seconds since the publish or play began, as the origin counts them. */
  elapsedSec?: number;
  /** SRS: the hook says the client is a relay (e.g. an edge pulling from the origin). */
  relay?: boolean;
}

/** Why a notification was not applied (counted per reason). */
export type EventRefusal = 'bad_call' | 'bad_name' | 'bad_client' | 'ignored_call';

/** The host of an RTMP tcurl (`rtmp://HOST[:port]/app[?args]`), normalized like play domains; undefined when none. */
export function tcurlDomain(tcurl: string | undefined): string | undefined {
  if (!tcurl) return undefined;
  const m = /^[a-z][a-z0-9+.-]*:\/\/(\[[0-9a-f:.]+\]|[^/:?#]+)/i.exec(tcurl.trim());
  if (!m) return undefined;
  const host = (m[1] as string).replace(/^\[|\]$/g, '');
  if (/^[0-9a-f:]+$/i.test(host) && host.includes(':')) return host.toLowerCase();
  return normalizeDomain(host);
}

/** Half of a UTF-16 surrogate pair alone (JSON can carry one; a cut can make one): no store can write it as text. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

function cleanName(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  // A stream name may carry its own query (`name?key=...`): the stream is the part before it.
  // The rule of the query parameters (isStreamName: 1 to 256 characters, no '/', no control
  // characters), so every stored name can be asked for; nginx-rtmp passes a publisher's stream key
  // through as `name`, and a key such as `a/b` (OBS sends it verbatim) is refused here (bad_name).
  const s = v.split('?')[0] as string;
  return isStreamName(s) && !LONE_SURROGATE.test(s) ? s : undefined;
}

/** A client address as stored: at most 64 UTF-16 units, a lone surrogate replaced by U+FFFD. */
const cleanAddr = (v: string | undefined): string => (v ?? '').slice(0, 64).replace(LONE_SURROGATES, '\uFFFD');

/**
 * nginx-rtmp's notification (application/x-www-form-urlencoded fields: call, app, name, addr,
 * clientid, tcurl, flashver, time, ...). `origin` and `domain` come from the notify URL.
 */
export function parseNginxNotify(fields: URLSearchParams, origin: string, domain: string | undefined): OriginEvent | EventRefusal {
  const call = fields.get('call') ?? '';
  const kinds: Record<string, OriginEventKind> = {
    publish: 'publish', publish_done: 'publish_done', update_publish: 'update', play: 'play', play_done: 'play_done',
  };
  let kind = kinds[call];
  if (kind === undefined) {
    // connect, done, record_done, update_play...: nothing to record (update_play refreshes a play).
    if (call === 'update_play') kind = 'play';
    else return ['connect', 'done', 'record_done', 'update'].includes(call) ? 'ignored_call' : 'bad_call';
  }
  const app = cleanName(fields.get('app') ?? undefined);
  const stream = cleanName(fields.get('name') ?? undefined);
  if (app === undefined || stream === undefined) return 'bad_name';
  const clientId = fields.get('clientid') ?? '';
  if (!/^\d{1,20}$/.test(clientId)) return 'bad_client';
  const time = Number(fields.get('time'));
  return {
    kind, origin, clientId, app, stream,
    addr: cleanAddr(fields.get('addr') ?? undefined),
    domain: domain ?? tcurlDomain(fields.get('tcurl') ?? undefined),
    flashver: (fields.get('flashver') ?? '').slice(0, 128),
    ...(kind === 'update' && Number.isFinite(time) && time >= 0 ? { elapsedSec: time } : {}),
  };
}

/**
 * SRS's HTTP callbacks (JSON: action on_publish / on_unpublish / on_play / on_stop, client_id, ip,
 * vhost, app, stream, tcUrl, param). The shapes follow SRS's documentation; no SRS runs here, so
 * test/origin-srs.test.ts checks them against payloads written in those shapes.
 */
export function parseSrsHook(body: unknown, origin: string, domain: string | undefined): OriginEvent | EventRefusal {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'bad_call';
  const b = body as Record<string, unknown>;
  const text = (k: string): string | undefined => (typeof b[k] === 'string' ? (b[k] as string) : typeof b[k] === 'number' ? String(b[k]) : undefined);
  const kinds: Record<string, OriginEventKind> = { on_publish: 'publish', on_unpublish: 'publish_done', on_play: 'play', on_stop: 'play_done' };
  const action = text('action') ?? '';
  const kind = kinds[action];
  if (kind === undefined) return ['on_connect', 'on_close', 'on_dvr', 'on_hls', 'on_hls_notify'].includes(action) ? 'ignored_call' : 'bad_call';
  const app = cleanName(text('app'));
  const stream = cleanName(text('stream'));
  if (app === undefined || stream === undefined) return 'bad_name';
  // A numeric client_id past 2^53 - 1 has lost digits in JSON.parse: two clients could read as one.
  const unsafe = typeof b.client_id === 'number' && !Number.isSafeInteger(b.client_id);
  const clientId = unsafe ? '' : text('client_id') ?? '';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(clientId)) return 'bad_client';
  const vhost = text('vhost');
  const vhostDomain = vhost && vhost !== '__defaultVhost__' ? normalizeDomain(vhost) : undefined;
  return {
    kind, origin, clientId, app, stream,
    addr: cleanAddr(text('ip')),
    domain: domain ?? vhostDomain ?? tcurlDomain(text('tcUrl')),
    flashver: '',
    ...(text('param')?.includes('relay=1') ? { relay: true } : {}),
  };
}
