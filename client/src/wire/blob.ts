import { z } from 'zod';

/** Longest `_id` a client may choose; CouchDB allows more, but ids are keys, not payload. */
export const MAX_ID_LENGTH = 256;

/** With the `u` flag a surrogate pair is one code point, so this matches only a lone surrogate. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Whether an id is well-formed Unicode. Stores key blobs by the id's UTF-8 bytes, where every lone
 * surrogate becomes U+FFFD: "a\ud800", "a\udbff" and "a\ufffd" would be one key, and all but the
 * first answered 201 `existing` without being stored.
 */
export const isWellFormedId = (id: string): boolean => !LONE_SURROGATE.test(id);

/** A blob's own id: CouchDB reserves ids starting with "_" (`_design/…`, `_local/…`). */
const BlobIdSchema = z
  .string()
  .min(1, '_id must not be empty')
  .max(MAX_ID_LENGTH, `_id must be at most ${MAX_ID_LENGTH} characters`)
  .refine((id) => !id.startsWith('_'), '_id must not start with "_" (reserved by CouchDB)')
  .refine(isWellFormedId, '_id must be well-formed Unicode: it holds a lone surrogate (\\ud800–\\udfff without its pair)');

/** Unix time in seconds or milliseconds, stored as given. */
export const TimestampSchema = z
  .int({
    error: (issue) => (issue.input === undefined ? 'timestamp is required' : 'timestamp must be an integer (unix seconds or milliseconds)'),
  })
  .min(0, 'timestamp must not be negative');

/** Top-level fields starting with "_" are CouchDB metadata (`_rev`, `_deleted`, …): only `_id` may be set. */
function rejectReservedFields(blob: Record<string, unknown>, ctx: z.core.$RefinementCtx<Record<string, unknown>>): void {
  for (const key of Object.keys(blob)) {
    if (key.startsWith('_') && key !== '_id') {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `field "${key}" is reserved: only "_id" may start with "_"`,
      });
    }
  }
}

/**
 * An own `__proto__` key (JSON.parse makes one) is lost by any copy, zod's included, which would
 * hide it from rejectReservedFields: it is judged on the input, before the object is copied.
 */
const withoutProtoKey = z.unknown().superRefine((value, ctx) => {
  if (value !== null && typeof value === 'object' && Object.hasOwn(value, '__proto__')) {
    ctx.addIssue({ code: 'custom', path: ['__proto__'], message: 'field "__proto__" is reserved: only "_id" may start with "_"' });
  }
});

/** What a service posts: any JSON object with an integer `timestamp`. */
export const KpiBlobSchema = withoutProtoKey.pipe(
  z.looseObject({ timestamp: TimestampSchema, _id: BlobIdSchema.optional() }, 'a blob must be a JSON object').superRefine(rejectReservedFields),
);
export type KpiBlob = z.infer<typeof KpiBlobSchema>;

/** What the service returns: the blob as posted, with the `_id` it is stored under. */
export const StoredBlobSchema = z.looseObject({ timestamp: TimestampSchema, _id: z.string() });
export type StoredBlob = z.infer<typeof StoredBlobSchema>;
