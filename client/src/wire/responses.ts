import { z } from 'zod';
import { StoredBlobSchema, TimestampSchema } from './blob.js';

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

/** `GET /wsapi/interaction_data?shape=blobs` */
export const RangeResponseSchema = z.array(StoredBlobSchema);

/**
 * A blob as the original answered from its CouchDB view `data/all` (`emit(doc.timestamp, doc)`):
 * the timestamp as `key`, the id, and the blob (with its `_id`) as `value`.
 */
const ViewRowSchema = z.object({ key: TimestampSchema, id: z.string(), value: StoredBlobSchema });
export type ViewRow = z.infer<typeof ViewRowSchema>;

/** `GET /wsapi/interaction_data` (the default shape, `rows`) */
export const RowsResponseSchema = z.array(ViewRowSchema);

/** `GET /wsapi/interaction_data/count` */
export const CountResponseSchema = z.int().min(0);
