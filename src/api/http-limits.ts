/**
 * Limits that keep slow or hostile clients from tying the server up (slowloris, dribbled
 * bodies, idle keep-alive connections, clients that never read their answer).
 */
export interface HttpLimits {
  /** The whole header block must arrive within this (slowloris). */
  headersTimeoutMs: number;
  /** Longest silence on a connection while a request is received or its answer sent. */
  bodyTimeoutMs: number;
  /** A whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Open connections at most; further ones are closed at once. */
  maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  requestTimeoutMs: 120_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 10_000,
};

/** Fastify options for these limits (the Node server checks its timers this often). */
export function fastifyLimitOptions(l: HttpLimits): {
  connectionTimeout: number; keepAliveTimeout: number; requestTimeout: number;
  http: { headersTimeout: number; connectionsCheckingInterval: number; requireHostHeader: boolean };
} {
  return {
    connectionTimeout: l.bodyTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
    http: {
      headersTimeout: l.headersTimeoutMs,
      // Header and request timeouts are only enforced when Node checks them (default every 30 s).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(l.headersTimeoutMs / 4))),
      // A request without Host reaches the app's Host check, which answers it in the envelope
      // with a request id (Node's own refusal is a bare 400).
      requireHostHeader: false,
    },
  };
}

/**
 * Requests one connection may have in flight at once (HTTP/1.1 pipelining). Node parses and
 * starts every pipelined request at once and holds their answers in memory, so one client
 * could otherwise take every query slot; beyond this a request is refused and the connection closed.
 */
export const MAX_PIPELINED_PER_CONNECTION = 8;
