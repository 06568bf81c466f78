import { z } from 'zod';
import { RangeQuerySchema } from './query.js';

/** `POST /wsapi/drains?start=&end=`: claim the blobs in the range (both bounds optional). */
export const DrainStartQuerySchema = RangeQuerySchema.pick({ start: true, end: true });

/**
 * `GET /wsapi/drains/:id/blobs?format=&formulas=`: NDJSON (one blob per line) or CSV. In CSV, a
 * text starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'` so that a spreadsheet shows
 * it instead of running it (`formulas=escape`, the default); `formulas=raw` writes it as it is.
 */
export const DrainReadQuerySchema = z.object({
  format: z.enum(['ndjson', 'csv'], 'format must be ndjson or csv').default('ndjson'),
  formulas: z.enum(['escape', 'raw'], 'formulas must be escape or raw').default('escape'),
});

/**
 * Blobs of the range that another drain held when this one claimed: `count` of them, held by
 * `drain` until `until` (unix ms; a drain in use renews it). `committing`: that drain's commit
 * has begun, so they will be deleted, not released; past `until` the service finishes it.
 */
const DrainHolderSchema = z.object({
  drain: z.string(),
  count: z.int().min(0),
  until: z.int(),
  committing: z.boolean(),
});
export type DrainHolder = z.infer<typeof DrainHolderSchema>;

/** A drain: `count` blobs are claimed for it until `expiresAt` (unix ms); commit it by `id`. */
export const DrainSchema = z.object({
  id: z.string(),
  count: z.int().min(0),
  expiresAt: z.int(),
  start: z.int().optional(),
  end: z.int().optional(),
  /** In the claim's answer only: blobs of the range it could not claim, by the drain that holds them. */
  held: z.array(DrainHolderSchema).optional(),
});
export type Drain = z.infer<typeof DrainSchema>;

/** `POST /wsapi/drains/:id/commit`: the claimed blobs are deleted (`removed`: by this request). */
export const DrainCommitResponseSchema = z.object({ ok: z.literal(true), id: z.string(), removed: z.int().min(0) });

/** `POST /wsapi/drains/:id/release`: the drain lets its `released` blobs go, deleting none. */
export const DrainReleaseResponseSchema = z.object({ ok: z.literal(true), id: z.string(), released: z.int().min(0) });
