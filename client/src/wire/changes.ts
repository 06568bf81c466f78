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
 * Query of the WebSocket feed: the change feed's, and `batch=1`, with which the server may send
 * several changes in one `changes` message (see ChangesMessageSchema). Without it, one change per
 * message, as every subscriber got before it existed (the page still does).
 */
export const FeedQuerySchema = ChangesQuerySchema.extend({
  batch: z
    .enum(['0', '1'], 'batch must be 0 or 1')
    .optional()
    .transform((batch) => batch === '1'),
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

/** What a subscriber gets without `batch=1`. */
export const FeedMessageSchema = z.discriminatedUnion('type', [ChangeMessageSchema, LiveMessageSchema]);
export type FeedMessage = z.infer<typeof FeedMessageSchema>;

/**
 * Only to a subscriber that asked for `batch=1`, besides the messages above: consecutive changes
 * in the store's order, each as its own message would be.
 */
export const ChangesMessageSchema = z.object({ type: z.literal('changes'), changes: z.array(ChangeMessageSchema) });
export type ChangesMessage = z.infer<typeof ChangesMessageSchema>;

const isDoc = (doc: unknown): doc is ChangeMessage['doc'] => typeof doc === 'object' && doc !== null && typeof (doc as { _id?: unknown })._id === 'string';

/**
 * The feed's messages as the typed client checks them: every field of the envelope, but of a
 * `doc` only that it is an object with an `_id`, trusting the service for the rest of the stored
 * blob's shape (it checked each blob on the way in). Checking the whole blob again cost a replay
 * about as much CPU as parsing it.
 */
const ChangeEnvelopeSchema = ChangeMessageSchema.extend({ doc: z.custom<ChangeMessage['doc']>(isDoc, 'doc must be an object with an _id') });
export const FeedEnvelopeSchema = z.discriminatedUnion('type', [
  ChangeEnvelopeSchema,
  z.object({ type: z.literal('changes'), changes: z.array(ChangeEnvelopeSchema) }),
  LiveMessageSchema,
]);

// Defined in portable/ (no zod) so that the page can load it too.
export { FeedCloseCode } from '../portable/close-codes.js';
