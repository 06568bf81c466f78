import { STATUS_CODES } from 'node:http';
import { Readable } from 'node:stream';
import { Agent, errors } from 'undici';
import { timeoutError, type HttpExchange } from './http.js';

export interface UndiciHttpOptions {
  /** Keep-alive connections per origin; default 50. */
  connections?: number | undefined;
}

export interface UndiciHttp {
  /** Give it to the client: `new KpiggybankClient({baseUrl, http: undici.http})`. */
  http: HttpExchange;
  /** Closes the pool's connections. */
  close(): Promise<void>;
}

/**
 * HTTP over undici's own request API, for Node services posting thousands of blobs a second.
 * Node 20's `fetch` wraps every answer in a web `Response` and every timeout in an AbortSignal:
 * measured against a local service, ~640 µs of client CPU per POST, ~135 µs through this.
 */
export function undiciHttp({ connections = 50 }: UndiciHttpOptions = {}): UndiciHttp {
  const agent = new Agent({ connections });
  const http: HttpExchange = async ({ method, url, headers, body, timeoutMs, signal }) => {
    const { origin, pathname, search } = new URL(url);
    let answer: Awaited<ReturnType<Agent['request']>>;
    try {
      answer = await agent.request({ origin, path: pathname + search, method, headers, body, headersTimeout: timeoutMs, signal });
    } catch (error) {
      if (error instanceof errors.HeadersTimeoutError) throw timeoutError(timeoutMs);
      if (signal?.aborted) throw signal.reason;
      throw error;
    }
    const { statusCode, headers: answerHeaders, body: answerBody } = answer;
    return {
      status: statusCode,
      statusText: STATUS_CODES[statusCode] ?? '',
      header: (name) => {
        const value = answerHeaders[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
      text: () => answerBody.text(),
      stream: () => Readable.toWeb(answerBody) as ReadableStream<Uint8Array>,
    };
  };
  return { http, close: () => agent.close() };
}
