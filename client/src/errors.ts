import type { ErrorCode } from './wire/errors.js';

/** Any failure of a kpiggybank call; `retryable` says whether the same call may succeed later. */
export abstract class KpiggybankError extends Error {
  abstract readonly retryable: boolean;
}

/** Where a blob broke the service's declared event schema (a 400 `schema_violation`), as the answer said it. */
export interface SchemaViolation {
  /** The offending blob's position in the batch (absent for a single blob). */
  readonly index?: number;
  /** The field at fault, e.g. `user_agent.version`; for a blob of no declared type, the discriminator's field. */
  readonly path: string;
  /** What the schema wants there, e.g. `string ≤ 16`. */
  readonly expected: string;
  readonly reason: string;
}

/** The service answered with an error status; `code` and `reason` are its JSON error body. */
export class KpiggybankHttpError extends KpiggybankError {
  override readonly name = 'KpiggybankHttpError';
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    /** The server's `error` code; `undefined` when the body was not a kpiggybank error (a proxy's page, say). */
    readonly code: ErrorCode | undefined,
    readonly reason: string,
    /** The offending blob of a rejected batch. */
    readonly index?: number,
    /** From a `Retry-After` header (503 store_unavailable): how long the server asks the client to wait. */
    readonly retryAfterMs?: number,
    /** Set when the server answered `schema_violation`: which field of which blob, and what the schema wants there. */
    readonly schemaViolation?: SchemaViolation,
  ) {
    super(`${method} ${url} answered ${status}${code ? ` ${code}` : ''}: ${reason}`);
  }

  /** 5xx (store unavailable, a proxy's bad gateway) and 429 may pass; a 4xx will answer the same again. */
  get retryable(): boolean {
    return this.status >= 500 || this.status === 429;
  }
}

/** The service could not be reached, or did not answer in time: nothing is known of the call's effect. */
export class KpiggybankNetworkError extends KpiggybankError {
  override readonly name = 'KpiggybankNetworkError';
  readonly retryable = true;
  constructor(
    readonly method: string,
    readonly url: string,
    readonly timedOut: boolean,
    options?: { cause?: unknown },
  ) {
    const why = timedOut ? 'timed out' : `failed: ${options?.cause instanceof Error ? options.cause.message : String(options?.cause)}`;
    super(`${method} ${url} ${why}`, options);
  }
}

/** The service answered 2xx with a body that breaks the wire contract (a client and server of different versions?). */
export class KpiggybankResponseError extends KpiggybankError {
  override readonly name = 'KpiggybankResponseError';
  readonly retryable = false;
  constructor(
    readonly method: string,
    readonly url: string,
    detail: string,
  ) {
    super(`${method} ${url} answered something unexpected: ${detail}`);
  }
}
