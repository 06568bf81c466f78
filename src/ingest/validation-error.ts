import type { ErrorCode } from 'kpiggybank-client/wire';

/** What refused blobs have wrong: a wire error code, why, and the index of the blob at fault. */
export type ValidationCode = Extract<ErrorCode, 'empty_batch' | 'batch_too_large' | 'too_deep' | 'invalid_blob' | 'duplicate_id'>;

/** A body's blobs refused as a whole (nothing is stored); http/errors.ts gives it its status. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';

  constructor(
    readonly code: ValidationCode,
    readonly reason: string,
    readonly index?: number,
  ) {
    super(reason);
  }
}
