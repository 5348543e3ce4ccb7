import { request as httpRequest } from 'node:http';
import { stringify } from 'node:querystring';
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { ClientBuilder } from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder.js';
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import type { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';
import { Logger4jInstance } from '@huaweicloud/huaweicloud-sdk-core/logger/log4jLogger.js';

// The SDK logs every non-2xx answer (with the full request) to stdout; the tests expect many.
Logger4jInstance.level = 'off';

/**
 * The official Huawei Cloud Node.js SDK core as a test client: its HcClient (signer + axios
 * HTTP client, exactly as applications use it) for valid calls, and its AKSKSigner alone
 * plus a raw socket request for calls that are altered after signing.
 */
export type Query = Record<string, string | number | string[]>;

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  errorCode?: string;
}

export interface SdkKey {
  ak: string;
  sk: string;
  /** Sets the credential's project (the SDK then fills {project_id} and sends X-Project-Id). */
  projectId?: string;
}

export function sdkClient(baseUrl: string, key: SdkKey): HcClient {
  const cred = new BasicCredentials().withAk(key.ak).withSk(key.sk);
  if (key.projectId) cred.withProjectId(key.projectId);
  return new ClientBuilder((c) => c).withCredential(cred).withEndpoint(baseUrl).build();
}

interface SdkError {
  httpStatusCode?: number;
  errorCode?: string;
  errorMsg?: string;
}

/** GET through the SDK's own client; `url` may contain `{project_id}`. */
export async function sdkGet(
  client: HcClient, url: string, queryParams: Query,
  extra: { pathParams?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<Answer> {
  try {
    const res = await client.sendRequest<Record<string, unknown> & { httpStatusCode?: number }>({
      method: 'GET', url, contentType: 'application/json', queryParams, pathParams: extra.pathParams ?? {}, headers: { ...extra.headers },
    });
    return { status: res.httpStatusCode ?? 0, body: res };
  } catch (err) {
    const e = err as SdkError;
    if (e.httpStatusCode === undefined) throw err;
    return { status: e.httpStatusCode, body: { error_msg: e.errorMsg }, errorCode: e.errorCode };
  }
}

export interface ToSign {
  method: string;
  baseUrl: string;
  path: string;
  query?: Query;
  headers?: Record<string, string>;
  /** Hashed by the signer as JSON.stringify(data), and sent that way. */
  data?: unknown;
}

/** Headers the SDK's AKSKSigner produces for a request (Authorization, X-Sdk-Date, host, ...). */
export function signWithSdk(key: SdkKey, r: ToSign): Record<string, string> {
  const cred = new BasicCredentials().withAk(key.ak).withSk(key.sk);
  const headers = { 'content-type': 'application/json', ...r.headers };
  return AKSKSigner.sign(
    { endpoint: `${r.baseUrl}${r.path}`, method: r.method, headers, queryParams: r.query ?? {}, data: r.data },
    cred,
  ) as Record<string, string>;
}

/** The query string the SDK's HTTP client puts on the wire (node:querystring). */
export const sdkQueryString = (q: Query): string => stringify(q);

/** Sends exactly this request target, headers and body over a socket. */
export function rawRequest(
  baseUrl: string, r: { method: string; target: string; headers: Record<string, string>; body?: string | Buffer },
): Promise<Answer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method: r.method, path: r.target, headers: r.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = { raw: text };
        }
        const code = typeof body.error_code === 'string' ? body.error_code : undefined;
        resolve({ status: res.statusCode ?? 0, body, errorCode: code });
      });
    });
    req.on('error', reject);
    req.end(r.body);
  });
}
