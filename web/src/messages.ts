/**
 * The change feed's messages as the page reads them. The types come from the client package's
 * wire (`import type`, erased in the output); the page parses by hand with type guards instead of
 * importing its zod schemas, so that it loads as plain ES modules with no bundler;
 * `test/home-page.test.ts` checks these guards against those schemas.
 */
import type { ChangeMessage, LiveMessage, StoredBlob } from 'kpiggybank-client/wire';

/** A stored blob: `_id`, a numeric `timestamp` and any other fields (untrusted content). */
export type FeedBlob = StoredBlob;

/** A change message as the page keeps it: a blob, or a deletion (whose tombstone `doc` is dropped). */
type ChangeHead = Omit<ChangeMessage, 'deleted' | 'doc'>;
export type BlobChange = ChangeHead & { deleted: false; doc: FeedBlob };
export type DeletionChange = ChangeHead & { deleted: true };

export type FeedMessage = BlobChange | DeletionChange | LiveMessage;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isFeedBlob(value: unknown): value is FeedBlob {
  return isRecord(value) && typeof value._id === 'string' && typeof value.timestamp === 'number';
}

/** The message of one WebSocket frame, or undefined for anything that is not one. */
export function parseFeedMessage(text: string): FeedMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  const { type, seq, id, deleted, doc } = value;
  if (type === 'live') return seq === null || typeof seq === 'string' ? { type, seq } : undefined;
  if (type !== 'change' || typeof seq !== 'string' || typeof id !== 'string') return undefined;
  if (deleted === true) return { type, seq, id, deleted };
  return isFeedBlob(doc) ? { type, seq, id, deleted: false, doc } : undefined;
}
