import { z } from 'zod';
import { StoredBlobSchema } from './blob.js';

/**
 * 201 answer to a POST: `ids[i]` is the id of the i-th blob posted. A blob whose `_id` was
 * already stored is not written again; its id is listed in `existing` too.
 */
export const IngestResponseSchema = z.object({
  ok: z.literal(true),
  ids: z.array(z.string()),
  existing: z.array(z.string()),
});
export type IngestResponse = z.infer<typeof IngestResponseSchema>;

/** `GET /wsapi/interaction_data?id=` */
export const GetResponseSchema = z.object({ results: StoredBlobSchema });
export type GetResponse = z.infer<typeof GetResponseSchema>;

/** `GET /wsapi/interaction_data` */
export const RangeResponseSchema = z.array(StoredBlobSchema);

/** `GET /wsapi/interaction_data/count` */
export const CountResponseSchema = z.int().min(0);
