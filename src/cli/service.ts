import { KpiggybankClient, KpiggybankHttpError, KpiggybankNetworkError } from 'kpiggybank-client';
import { authAdvice, type Credentials } from './auth-advice.js';
import { errorMessage } from './cli-error.js';
import { nodeHttp } from './node-http.js';

/**
 * The service answered, but not 2xx: its status, and its `{error, reason}` when it sent one;
 * `advice` (what to set, for an auth error) replaces the reason in the message.
 */
export class AnswerError extends Error {
  override readonly name = 'AnswerError';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly code: string | undefined,
    readonly reason: string | undefined,
    /** Seconds, from `Retry-After`. */
    readonly retryAfter: number | undefined,
    advice?: string,
  ) {
    super(`${method} ${path} answered ${status}${advice ? `: ${advice}` : reason ? `: ${reason}` : ''}`);
  }
}

/** The request got no answer: refused, cut, timed out or aborted. */
export class UnreachableError extends Error {
  override readonly name = 'UnreachableError';
  constructor(
    readonly base: string,
    cause: unknown,
  ) {
    super(`cannot reach ${base}: ${errorMessage(cause)}`, { cause });
  }
}

function withoutPassword(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  if (parsed.password === '') return url;
  parsed.password = '***';
  return parsed.toString().replace(/\/+$/, '');
}

/**
 * The kpiggybank service as the CLI calls it: the typed client, its failures in the CLI's words.
 * The token goes in a header only, never in a message.
 */
export class Service {
  /** The URL as messages print it: a password in it is masked (a message may end up in a log or a ticket). */
  readonly shown: string;
  private readonly client: KpiggybankClient;

  constructor(
    url: string,
    private readonly credentials: Credentials,
  ) {
    this.shown = withoutPassword(url.replace(/\/+$/, ''));
    // no time limit: claiming a million blobs takes minutes before the first byte of the answer
    this.client = new KpiggybankClient({ baseUrl: url, token: credentials.token, timeoutMs: 0, http: nodeHttp });
  }

  /** The client's call; a failure to answer, or an error answer, thrown as UnreachableError or AnswerError. */
  async ask<T>(call: (client: KpiggybankClient) => Promise<T>): Promise<T> {
    try {
      return await call(this.client);
    } catch (error) {
      throw this.explained(error);
    }
  }

  /** A client error in the CLI's words (an auth error says what to set); any other error as it is. */
  explained(error: unknown): unknown {
    if (error instanceof KpiggybankHttpError) {
      const { pathname, search } = new URL(error.url);
      const advice = authAdvice(error.status, error.code, this.credentials);
      const retryAfter = error.retryAfterMs === undefined ? undefined : error.retryAfterMs / 1000;
      return new AnswerError(error.method, pathname + search, error.status, error.code, error.code === undefined ? undefined : error.reason, retryAfter, advice);
    }
    if (error instanceof KpiggybankNetworkError) return new UnreachableError(this.shown, error.cause);
    return error;
  }
}
