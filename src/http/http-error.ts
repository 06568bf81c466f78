import type { ErrorBody, ErrorCode } from 'kpiggybank-client/wire';

/** An error that knows its HTTP answer: status and the JSON body `{error, reason, index?}`. */
export class HttpError extends Error {
  override readonly name = 'HttpError';

  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly reason: string,
    readonly index?: number,
    readonly headers: Record<string, string> = {},
  ) {
    super(reason);
  }

  get body(): ErrorBody {
    return this.index === undefined ? { error: this.code, reason: this.reason } : { error: this.code, reason: this.reason, index: this.index };
  }
}
