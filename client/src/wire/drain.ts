import { z } from 'zod';
import { RangeQuerySchema } from './query.js';

/** `POST /wsapi/drains?start=&end=`: claim the blobs in the range (both bounds optional). */
export const DrainStartQuerySchema = RangeQuerySchema.pick({ start: true, end: true });

/** `GET /wsapi/drains/:id/blobs?format=`: NDJSON (one blob per line) or CSV. */
export const DrainReadQuerySchema = z.object({
  format: z.enum(['ndjson', 'csv'], 'format must be ndjson or csv').default('ndjson'),
});

/** A drain: `count` blobs are claimed for it until `expiresAt` (unix ms); commit it by `id`. */
export const DrainSchema = z.object({
  id: z.string(),
  count: z.int().min(0),
  expiresAt: z.int(),
  start: z.int().optional(),
  end: z.int().optional(),
});
export type Drain = z.infer<typeof DrainSchema>;

/** `POST /wsapi/drains/:id/commit`: the claimed blobs are deleted. */
export const DrainCommitResponseSchema = z.object({ ok: z.literal(true), id: z.string(), removed: z.int().min(0) });
