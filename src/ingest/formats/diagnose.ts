import { parseLogFormatText } from './log-format.js';
import { PRESETS } from './presets.js';

/**
 * Warnings about a --format before a line is read: what nginx would not log, or what livestats cannot
 * count from it. Pure; the format compiler itself is unchanged (it accepts every one of these).
 */

/** nginx's HTTP variables (core, upstream, ssl, realip, geo, ...) that a log_format may use. */
const NGINX_VARIABLES = new Set([
  'ancient_browser', 'arg', 'args', 'binary_remote_addr', 'body_bytes_sent', 'bytes_received', 'bytes_sent', 'connection',
  'connection_requests', 'connection_time', 'connections_active', 'connections_reading', 'connections_waiting',
  'connections_writing', 'content_length', 'content_type', 'date_gmt', 'date_local', 'document_root', 'document_uri',
  'fastcgi_path_info', 'fastcgi_script_name', 'geoip_area_code', 'geoip_city', 'geoip_city_continent_code',
  'geoip_city_country_code', 'geoip_city_country_code3', 'geoip_city_country_name', 'geoip_country_code',
  'geoip_country_code3', 'geoip_country_name', 'geoip_dma_code', 'geoip_latitude', 'geoip_longitude', 'geoip_org',
  'geoip_postal_code', 'geoip_region', 'geoip_region_name', 'gzip_ratio', 'host', 'hostname', 'http2', 'http3',
  'https', 'invalid_referer', 'is_args', 'limit_conn_status', 'limit_rate', 'limit_req_status', 'memcached_key',
  'modern_browser', 'msec', 'msie', 'nginx_version', 'pid', 'pipe', 'proxy_add_x_forwarded_for', 'proxy_host',
  'proxy_port', 'proxy_protocol_addr', 'proxy_protocol_port', 'proxy_protocol_server_addr', 'proxy_protocol_server_port',
  'query_string', 'realip_remote_addr', 'realip_remote_port', 'realpath_root', 'remote_addr', 'remote_port',
  'remote_user', 'request', 'request_body', 'request_body_file', 'request_completion', 'request_filename', 'request_id',
  'request_length', 'request_method', 'request_time', 'request_uri', 'scheme', 'secure_link', 'secure_link_expires',
  'server_addr', 'server_name', 'server_port', 'server_protocol', 'ssl_cipher', 'ssl_ciphers', 'ssl_client_cert',
  'ssl_client_escaped_cert', 'ssl_client_fingerprint', 'ssl_client_i_dn', 'ssl_client_raw_cert', 'ssl_client_s_dn',
  'ssl_client_serial', 'ssl_client_v_end', 'ssl_client_v_remain', 'ssl_client_v_start', 'ssl_client_verify',
  'ssl_curve', 'ssl_curves', 'ssl_early_data', 'ssl_protocol', 'ssl_server_name', 'ssl_session_id',
  'ssl_session_reused', 'status', 'tcpinfo_rtt', 'tcpinfo_rttvar', 'tcpinfo_snd_cwnd', 'tcpinfo_rcv_space',
  'time_iso8601', 'time_local', 'uid_got', 'uid_reset', 'uid_set', 'upstream_addr', 'upstream_bytes_received',
  'upstream_bytes_sent', 'upstream_cache_status', 'upstream_connect_time', 'upstream_header_time',
  'upstream_queue_time', 'upstream_response_length', 'upstream_response_time', 'upstream_status', 'uri',
  'http_referer', 'http_user_agent', 'http_x_forwarded_for', 'http_host',
]);

/** Families of variables named by a prefix ($http_NAME, $arg_NAME, ...). */
const VARIABLE_PREFIXES = [
  'http_', 'sent_http_', 'sent_trailer_', 'arg_', 'cookie_', 'upstream_http_', 'upstream_cookie_', 'upstream_trailer_',
  'jwt_', 'geoip2_', 'ssl_', 'realip_', 'proxy_protocol_tlv_', 'rtmp_',
];

const HOST_VARIABLES = ['host', 'http_host', 'server_name'];
const TIME_VARIABLES = ['time_local', 'time_iso8601', 'msec'];

/** The variables of a preset or log_format string; undefined for JSON lines (their fields are found per line). */
export function formatVariables(format: string): string[] | undefined {
  const spec = format.trim();
  if (['json', 'jsonl', 'ndjson'].includes(spec)) return undefined;
  const text = Object.hasOwn(PRESETS, spec) ? (PRESETS[spec] as string) : spec;
  return parseLogFormatText(text).segments.flatMap((s) => (s.kind === 'var' ? [s.name] : []));
}

/** Edit distance (for "did you mean"), small strings only. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0] as number;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j] as number;
      const swap = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1];
      d[j] = Math.min(cur + 1, (d[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : swap ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length] as number;
}

function closest(name: string): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const v of NGINX_VARIABLES) {
    const d = distance(name, v);
    if (d < bestD) {
      best = v;
      bestD = d;
    }
  }
  return best;
}

/** True for a variable nginx knows (so a log_format using another one is a typo: nginx itself would refuse it). */
export function isNginxVariable(name: string): boolean {
  return NGINX_VARIABLES.has(name) || VARIABLE_PREFIXES.some((p) => name.startsWith(p) && name.length > p.length) || /^\d$/.test(name);
}

/**
 * Warnings for a --format (throws FormatError like the compiler for a format it cannot read):
 * unknown variables (a typo such as $hots), no host, no status, no time.
 * `timeOptional`: syslog and HTTP intake give lines without a time the receive time.
 */
export function formatWarnings(format: string, options: { timeOptional?: boolean; defaultDomain?: boolean } = {}): string[] {
  const vars = formatVariables(format);
  if (vars === undefined) return [];
  const out: string[] = [];
  for (const v of new Set(vars)) {
    if (isNginxVariable(v)) continue;
    const guess = closest(v);
    out.push(`unknown variable $${v} in --format${guess ? ` (did you mean $${guess}?)` : ''}: nginx has no such variable, ` +
      'so this is not the log_format nginx writes; livestats skips its value');
  }
  if (!vars.some((v) => HOST_VARIABLES.includes(v)) && !options.defaultDomain) {
    out.push('the format logs no host ($host, $http_host or $server_name): the domain is taken from absolute request lines ' +
      '("GET http://play.example.com/x") only, every other line is dropped as bad_domain. Add $host to the log_format ' +
      '(--format combined_host and the nginx config in docs/ingest.md), or, if this server serves one domain, give it with --domain NAME');
  }
  if (!vars.includes('status')) out.push('the format logs no $status: every line will be dropped as bad_status');
  if (!options.timeOptional && !vars.some((v) => TIME_VARIABLES.includes(v))) {
    out.push('the format logs no time ($time_local, $time_iso8601 or $msec): every line will be dropped as bad_time');
  }
  return out;
}
