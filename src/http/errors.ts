import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { OriginRefusal } from '../access/origin-policy.js';
import { ValidationError, type ValidationCode } from '../ingest/validation-error.js';
import { StoreError, StoreUnavailableError } from '../store/store.js';
import { HttpError } from './http-error.js';

/** Seconds a client should wait before retrying while the store is unavailable. */
export const RETRY_AFTER_SECONDS = 5;

/** Errors raised by express's body parsers carry a `type`; these are the client's fault. */
interface BodyParserError extends Error {
  type: string;
  limit?: number;
  charset?: string;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return error instanceof Error && typeof (error as { type?: unknown }).type === 'string';
}

/** A refused batch's status: too many blobs is the request's size, the rest its content. */
const VALIDATION_STATUS: Record<ValidationCode, number> = {
  empty_batch: 400,
  batch_too_large: 413,
  too_deep: 400,
  invalid_blob: 400,
  duplicate_id: 400,
  schema_violation: 400,
};

/** The HTTP answer for any error; `internal` is true when the fault is ours and worth a log line. */
export function toHttpError(error: unknown): { http: HttpError; internal: boolean } {
  if (error instanceof HttpError) return { http: error, internal: false };
  if (error instanceof OriginRefusal) return { http: new HttpError(error.status, error.code, error.reason), internal: false };
  if (error instanceof ValidationError) {
    return { http: new HttpError(VALIDATION_STATUS[error.code], error.code, error.reason, error.index, {}, error.details), internal: false };
  }
  if (error instanceof StoreUnavailableError) {
    return {
      http: new HttpError(503, 'store_unavailable', 'the store is unavailable; nothing was stored, retry later', undefined, {
        'Retry-After': String(RETRY_AFTER_SECONDS),
      }),
      internal: true,
    };
  }
  if (error instanceof StoreError) {
    return { http: new HttpError(500, 'store_error', 'the store failed to complete the request; see the server log'), internal: true };
  }
  if (isBodyParserError(error)) {
    switch (error.type) {
      case 'entity.too.large':
        return { http: new HttpError(413, 'too_large', `the request body is larger than the limit of ${error.limit} bytes`), internal: false };
      case 'parameters.too.many':
        return { http: new HttpError(413, 'too_large', 'the form has too many fields; send one field, data=<JSON>'), internal: false };
      case 'entity.parse.failed':
        return { http: new HttpError(400, 'malformed_json', `the body is not valid JSON: ${error.message}`), internal: false };
      case 'charset.unsupported':
      case 'encoding.unsupported':
        return { http: new HttpError(415, 'unsupported_media_type', error.message), internal: false };
      case 'request.aborted':
      case 'request.size.invalid':
        return { http: new HttpError(400, 'bad_request', `the body was not received whole: ${error.message}`), internal: false };
    }
  }
  // Other client errors raised by the body parsers (a corrupt gzip body, say) come as http-errors.
  const status = (error as { status?: unknown; expose?: unknown }).status;
  if ((error as { expose?: unknown }).expose === true && typeof status === 'number' && status >= 400 && status < 500) {
    return { http: new HttpError(status, 'bad_request', `the body could not be read: ${(error as Error).message}`), internal: false };
  }
  return { http: new HttpError(500, 'internal_error', 'the server failed to complete the request; see the server log'), internal: true };
}

export function notFound(): RequestHandler {
  return (req, _res, next) => next(new HttpError(404, 'not_found', `no such resource: ${req.method} ${req.path}`));
}

/** Last middleware: every error leaves as JSON, and the process lives on. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const { http, internal } = toHttpError(error);
    if (internal) logger.error({ err: error, method: req.method, url: req.path }, 'request failed');
    if (res.headersSent) {
      // A streamed answer cannot change its status any more: cut it, so the client sees it incomplete.
      res.destroy();
      return;
    }
    res.status(http.status).set(http.headers).json(http.body);
  };
}
