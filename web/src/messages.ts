/**
 * The change feed's messages as the page reads them. The page parses by hand with type guards
 * instead of importing the client package's zod schemas, so that it loads as plain ES modules
 * with no bundler; `test/home-page.test.ts` checks these guards against those schemas.
 */

/** A stored blob: `_id`, a numeric `timestamp` and any other fields (untrusted content). */
export interface FeedBlob {
  _id: string;
  timestamp: number;
  [field: string]: unknown;
}

export interface BlobChange {
  type: 'change';
  seq: string;
  id: string;
  deleted: false;
  doc: FeedBlob;
}

export interface DeletionChange {
  type: 'change';
  seq: string;
  id: string;
  deleted: true;
}

export interface LiveMessage {
  type: 'live';
  seq: string | null;
}

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
