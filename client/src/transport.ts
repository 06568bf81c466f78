import type { z } from 'zod';
import { KpiggybankHttpError, KpiggybankNetworkError, KpiggybankResponseError, type SchemaViolation } from './errors.js';
import { fetchHttp, type HttpExchange, type HttpResponse } from './http.js';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from './retry.js';
import { type ErrorBody, ErrorBodySchema } from './wire/errors.js';

export interface ClientOptions {
  /**
   * Where the service listens, e.g. `http://127.0.0.1:3000`. A `user:password@` in it (a proxy's)
   * is sent as Basic auth when no `token` is given, and left out of the URLs errors name.
   */
  baseUrl: string;
  /** Sent as `Authorization: Bearer` (and `?token=` on the WebSocket): the read, write or drain token. */
  token?: string | undefined;
  /** Per attempt, until the answer's headers arrive; default 30 s. 0: no limit. */
  timeoutMs?: number | undefined;
  retry?: Partial<RetryPolicy> | undefined;
  /** Another `fetch` (tests, proxies, a custom agent); default: the global one. */
  fetch?: typeof fetch | undefined;
  /** How to speak HTTP, in place of `fetch`: e.g. `undiciHttp()` from `kpiggybank-client/undici` on Node. */
  http?: HttpExchange | undefined;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  query?: Query | undefined;
  body?: unknown;
  /** Whether repeating the call is harmless (reads; writes of blobs that all carry `_id`). */
  idempotent: boolean;
  signal?: AbortSignal | undefined;
}

/** What every call may take besides its own options. */
export interface CallOptions {
  /**
   * Aborts the call, and a streamed answer's body as it arrives: the call rejects with a
   * KpiggybankNetworkError whose `cause` is the signal's reason, and is not retried.
   */
  signal?: AbortSignal | undefined;
}

/** HTTP to one kpiggybank service: URLs, the token, timeouts, retries and error decoding. */
export class Transport {
  readonly baseUrl: string;
  readonly token: string | undefined;
  /** Basic auth from the URL's `user:password@`, used when there is no token. */
  private readonly basic: string | undefined;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly exchange: HttpExchange;

  constructor(options: ClientOptions) {
    const base = URL.canParse(options.baseUrl) ? new URL(options.baseUrl) : undefined;
    if (base && (base.username || base.password)) {
      this.basic = `Basic ${base64(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`)}`;
      base.username = base.password = '';
    }
    this.baseUrl = (base?.toString() ?? options.baseUrl).replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.exchange = options.http ?? fetchHttp(options.fetch ?? ((input, init) => globalThis.fetch(input, init)));
  }

  url(path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    const search = params.toString();
    return `${this.baseUrl}${path}${search ? `?${search}` : ''}`;
  }

  /** The answer, once its status is 2xx; its body is the caller's to read. */
  send(spec: RequestSpec): Promise<HttpResponse> {
    const attempt = () => this.attempt(spec);
    return spec.idempotent ? withRetry(this.retry, attempt, spec.signal) : attempt();
  }

  /** The answer's JSON, checked against `schema`. */
  async json<S extends z.ZodType>(spec: RequestSpec, schema: S): Promise<z.output<S>> {
    const read = async () => {
      const res = await this.attempt(spec);
      let body: unknown;
      try {
        body = JSON.parse(await res.text());
      } catch (error) {
        throw new KpiggybankNetworkError(spec.method, this.url(spec.path, spec.query), false, { cause: error });
      }
      const parsed = schema.safeParse(body);
      if (!parsed.success) throw new KpiggybankResponseError(spec.method, this.url(spec.path, spec.query), parsed.error.issues[0]?.message ?? 'invalid body');
      return parsed.data;
    };
    // the body is read inside the retry: a connection cut mid-body is retried like one cut before it
    return spec.idempotent ? withRetry(this.retry, read, spec.signal) : read();
  }

  private async attempt({ method, path, query, body, signal }: RequestSpec): Promise<HttpResponse> {
    const url = this.url(path, query);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    else if (this.basic) headers.authorization = this.basic;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: HttpResponse;
    try {
      // The limit covers the wait for the headers only: a long range or drain body may stream for minutes.
      res = await this.exchange({ method, url, headers, body: body === undefined ? undefined : JSON.stringify(body), timeoutMs: this.timeoutMs, signal });
    } catch (error) {
      throw new KpiggybankNetworkError(method, url, error instanceof Error && error.name === 'TimeoutError', { cause: error });
    }
    if (res.status >= 200 && res.status < 300) return res;
    const text = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const error = ErrorBodySchema.safeParse(json);
    const retryAfter = Number(res.header('retry-after'));
    throw new KpiggybankHttpError(
      method,
      url,
      res.status,
      error.success ? error.data.error : undefined,
      error.success ? error.data.reason : text.slice(0, 200) || res.statusText,
      error.success ? error.data.index : undefined,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
      error.success ? schemaViolationOf(error.data) : undefined,
    );
  }
}

/** A schema_violation's details; none for another code, or for a body that lacks where and what. */
function schemaViolationOf({ error, reason, index, path, expected }: ErrorBody): SchemaViolation | undefined {
  if (error !== 'schema_violation' || path === undefined || expected === undefined) return undefined;
  return index === undefined ? { path, expected, reason } : { index, path, expected, reason };
}

/** Base64 of the text's UTF-8 bytes, in browsers and on Node alike. */
const base64 = (text: string): string => btoa(Array.from(new TextEncoder().encode(text), (byte) => String.fromCharCode(byte)).join(''));
