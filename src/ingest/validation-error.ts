import type { ErrorCode } from 'kpiggybank-client/wire';

/** What refused blobs have wrong: a wire error code, why, the index of the blob at fault, and for schema_violation where and what. */
export type ValidationCode = Extract<ErrorCode, 'empty_batch' | 'batch_too_large' | 'too_deep' | 'invalid_blob' | 'duplicate_id' | 'schema_violation'>;

/** schema_violation: the field at fault (dotted) and what the declared schema wants there. */
export interface ViolationDetails {
  readonly path: string;
  readonly expected: string;
}

/** A body's blobs refused as a whole (nothing is stored); http/errors.ts gives it its status. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';

  constructor(
    readonly code: ValidationCode,
    readonly reason: string,
    readonly index?: number,
    readonly details?: ViolationDetails,
  ) {
    super(reason);
  }
}
