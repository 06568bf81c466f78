import { KpiBlobSchema, type KpiBlob } from 'kpiggybank-client/wire';
import { HttpError } from '../http/http-error.js';
import { nestedDeeperThan } from './depth.js';

export interface IngestLimits {
  maxBatchBlobs: number;
  maxDepth: number;
}

/**
 * Turns a parsed POST body (one blob or an array of them) into blobs ready to store, or throws
 * the HttpError that rejects the whole request: one bad blob and nothing is stored.
 */
export function validateBlobs(body: unknown, limits: IngestLimits): KpiBlob[] {
  const batch = Array.isArray(body);
  const candidates: unknown[] = batch ? body : [body];
  if (candidates.length === 0) throw new HttpError(400, 'empty_batch', 'the array is empty: post at least one blob');
  if (candidates.length > limits.maxBatchBlobs) {
    throw new HttpError(413, 'batch_too_large', `the batch holds ${candidates.length} blobs; at most ${limits.maxBatchBlobs} are allowed per request`);
  }
  const where = (i: number) => (batch ? `blob ${i}` : 'the blob');
  const index = (i: number) => (batch ? i : undefined);
  const seen = new Map<string, number>();
  return candidates.map((candidate, i) => {
    if (nestedDeeperThan(candidate, limits.maxDepth)) {
      throw new HttpError(400, 'too_deep', `${where(i)} is nested deeper than ${limits.maxDepth} levels`, index(i));
    }
    const parsed = KpiBlobSchema.safeParse(candidate);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length > 0 && !issue.message.includes(String(issue.path[0])) ? ` (at ${issue.path.join('.')})` : '';
      throw new HttpError(400, 'invalid_blob', `${where(i)} is invalid: ${issue.message}${field}`, index(i));
    }
    const id = parsed.data._id;
    if (id !== undefined) {
      const first = seen.get(id);
      if (first !== undefined) throw new HttpError(400, 'duplicate_id', `blobs ${first} and ${i} have the same _id "${id}"`, i);
      seen.set(id, i);
    }
    return parsed.data;
  });
}
