import { request, type IncomingMessage } from 'node:http';
import { request as requestTls } from 'node:https';
import { ErrorBodySchema } from 'kpiggybank-client/wire';
import { authAdvice, type Credentials } from './auth-advice.js';
import { errorMessage } from './cli-error.js';

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

interface CallOptions {
  signal?: AbortSignal | undefined;
}

function withoutPassword(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  if (parsed.password === '') return url;
  parsed.password = '***';
  return parsed.toString().replace(/\/+$/, '');
}

/** The kpiggybank service as the CLI calls it. The token goes in a header only, never in a message. */
export class Service {
  readonly base: string;
  /** `base` as messages print it: a password in the URL is masked (a message may end up in a log or a ticket). */
  readonly shown: string;
  private readonly headers: Record<string, string>;

  constructor(
    url: string,
    private readonly credentials: Credentials,
  ) {
    this.base = url.replace(/\/+$/, '');
    this.shown = withoutPassword(this.base);
    this.headers = credentials.token ? { Authorization: `Bearer ${credentials.token}` } : {};
  }

  /**
   * The answer, if 2xx; else throws AnswerError or UnreachableError. node:http rather than fetch:
   * claiming a million blobs takes minutes before the first byte of the answer, past fetch's
   * fixed 300 s wait for response headers.
   */
  async call(method: string, path: string, options: CallOptions = {}): Promise<IncomingMessage> {
    const url = new URL(`${this.base}${path}`);
    const issue = url.protocol === 'https:' ? requestTls : request;
    const res = await new Promise<IncomingMessage>((resolve, reject) =>
      issue(url, { method, headers: this.headers, signal: options.signal }, resolve)
        .on('error', reject)
        .end(),
    ).catch((error: unknown) => {
      throw new UnreachableError(this.shown, error);
    });
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    const body = ErrorBodySchema.safeParse(await text(res).then(JSON.parse, () => undefined).catch(() => undefined));
    const retryAfter = Number(res.headers['retry-after']);
    const advice = authAdvice(status, body.data?.error, this.credentials);
    throw new AnswerError(method, path, status, body.data?.error, body.data?.reason, Number.isFinite(retryAfter) && res.headers['retry-after'] ? retryAfter : undefined, advice);
  }

  async json(method: string, path: string, options: CallOptions = {}): Promise<unknown> {
    const res = await this.call(method, path, options);
    const body = await text(res).catch((error: unknown) => {
      throw new UnreachableError(this.shown, error);
    });
    try {
      return JSON.parse(body);
    } catch {
      throw new Error(`${method} ${path}: the answer is not JSON: ${body.slice(0, 100)}`);
    }
  }
}

async function text(res: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return body;
}
