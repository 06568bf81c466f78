import { z } from 'zod';

/** Every `error` code the service answers with; `reason` says the rest in a sentence. */
const ErrorCodeSchema = z.enum([
  'missing_data', // form body without a `data` field
  'malformed_json', // body (or `data`) is not JSON
  'invalid_blob', // a blob breaks the blob schema; `index` names it in a batch
  'schema_violation', // a blob breaks the declared event schema (SCHEMA_FILE); `index`, `path` and `expected` say where and what
  'empty_batch',
  'batch_too_large', // more blobs than MAX_BATCH_BLOBS
  'duplicate_id', // the same `_id` twice in one request
  'too_deep', // nesting deeper than MAX_DEPTH
  'too_large', // body over MAX_BODY_BYTES (413)
  'unsupported_media_type', // 415
  'bad_request', // a body that cannot be read at all (e.g. corrupt gzip)
  'invalid_query',
  'not_found',
  'store_unavailable', // 503, with Retry-After
  'store_error',
  'unauthorized', // 401: missing or wrong token
  'forbidden', // 403: draining is not enabled (no DRAIN_TOKEN)
  'forbidden_origin', // 403: a browser request from an origin that ALLOWED_ORIGINS does not list
  'unknown_host', // 421: a Host header this service does not answer for (DNS rebinding), see ALLOWED_HOSTS
  'drain_committed', // 409: the drain was committed already
  'drain_expired', // 410: the drain's lease ran out before its commit
  'internal_error',
  'overloaded', // 503, with Retry-After: too many request bodies in flight, or too many connections open
  'body_timeout', // 408: the request body did not arrive within BODY_TIMEOUT_MS
]);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

export const ErrorBodySchema = z.object({
  error: ErrorCodeSchema,
  reason: z.string(),
  /** Position of the offending blob when a batch was rejected. */
  index: z.int().optional(),
  /** schema_violation: the field at fault, e.g. `user_agent.version` (the discriminator's field for a blob of no declared type). */
  path: z.string().optional(),
  /** schema_violation: what the schema wants there, e.g. `string ≤ 16`. */
  expected: z.string().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;
