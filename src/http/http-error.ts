import type { ErrorBody, ErrorCode } from 'kpiggybank-client/wire';

/** An error that knows its HTTP answer: status and the JSON body `{error, reason, index?, path?, expected?}`. */
export class HttpError extends Error {
  override readonly name = 'HttpError';

  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly reason: string,
    readonly index?: number,
    readonly headers: Record<string, string> = {},
    /** schema_violation: the field at fault and what the schema wants there. */
    readonly details?: Pick<ErrorBody, 'path' | 'expected'>,
  ) {
    super(reason);
  }

  get body(): ErrorBody {
    const body: ErrorBody = this.index === undefined ? { error: this.code, reason: this.reason } : { error: this.code, reason: this.reason, index: this.index };
    return this.details === undefined ? body : { ...body, ...this.details };
  }
}
