import { z } from 'zod';
import { StoredBlobSchema } from './blob.js';

/**
 * Query of the change feed (`/wsapi/changes` over WebSocket, `/wsapi/interaction_data/stream`):
 * `since` is a `seq` the client received before (opaque: store it, never parse it), or `now`.
 * `token` is the read token, for browsers whose WebSocket cannot send an Authorization header.
 */
export const ChangesQuerySchema = z.object({
  since: z.string('since must be given once').min(1, 'since must not be empty').default('now'),
  token: z.string('token must be given once').optional(),
});

/**
 * One change of the store: a new blob (`doc` is the blob), or a removed one (`deleted: true`;
 * `doc` is then CouchDB's tombstone `{_id, _deleted: true}`, as the legacy stream always carried a doc).
 */
const ChangeMessageSchema = z.object({
  type: z.literal('change'),
  seq: z.string(),
  id: z.string(),
  deleted: z.literal(true).optional(),
  doc: z.union([StoredBlobSchema, z.object({ _id: z.string(), _deleted: z.literal(true) })]),
});
export type ChangeMessage = z.infer<typeof ChangeMessageSchema>;

/**
 * Sent once, when the subscriber is live: every change after `seq` follows as it happens. For
 * `since=now` it is the subscriber's first resume point; `null` only while the store has never answered.
 */
const LiveMessageSchema = z.object({ type: z.literal('live'), seq: z.string().nullable() });
export type LiveMessage = z.infer<typeof LiveMessageSchema>;

export const FeedMessageSchema = z.discriminatedUnion('type', [ChangeMessageSchema, LiveMessageSchema]);
export type FeedMessage = z.infer<typeof FeedMessageSchema>;

// Defined in portable/ (no zod) so that the page can load it too.
export { FeedCloseCode } from '../portable/close-codes.js';
