/** One request as the client sends it. */
export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: string | undefined;
  /** Until the answer's headers arrive; 0: no limit. */
  timeoutMs: number;
  /** Aborts the request, and the answer's body while it streams; the exchange rejects with its reason. */
  signal?: AbortSignal | undefined;
}

/** What the client reads of an answer: the part of fetch's `Response` it uses. */
export interface HttpResponse {
  readonly status: number;
  readonly statusText: string;
  header(name: string): string | null;
  text(): Promise<string>;
  /** The body as it arrives (drains stream for minutes). */
  stream(): ReadableStream<Uint8Array>;
}

/**
 * How the client speaks HTTP: one request, one answer. It rejects when no answer came; with an
 * error named `TimeoutError` when none came within `timeoutMs`. The default is `fetchHttp`; on
 * Node, `kpiggybank-client/undici` costs the caller a fifth of the CPU per request of Node 20's fetch.
 */
export type HttpExchange = (request: HttpRequest) => Promise<HttpResponse>;

export const timeoutError = (timeoutMs: number): DOMException => new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError');

/** An exchange over a `fetch` (the global one in browsers, or one of your own: tests, proxies). */
export function fetchHttp(fetchImpl: typeof fetch): HttpExchange {
  return async ({ method, url, headers, body, timeoutMs, signal }) => {
    const abort = new AbortController();
    const timer = timeoutMs > 0 ? setTimeout(() => abort.abort(timeoutError(timeoutMs)), timeoutMs) : undefined;
    let res: Response;
    try {
      res = await fetchImpl(url, { method, headers, body, signal: signal ? AbortSignal.any([abort.signal, signal]) : abort.signal });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (abort.signal.aborted) throw timeoutError(timeoutMs);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return {
      status: res.status,
      statusText: res.statusText,
      header: (name) => res.headers.get(name),
      text: () => res.text(),
      stream: () => res.body ?? new Blob([]).stream(),
    };
  };
}
