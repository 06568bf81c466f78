import { isWellFormedId, KpiBlobSchema, MAX_ID_LENGTH, type KpiBlob } from 'kpiggybank-client/wire';
import { batchEntries } from './batch.js';
import type { SchemaChecker } from '../schema/schema-violation.js';
import { nestingProblem } from './depth.js';
import { ValidationError } from './validation-error.js';

export interface IngestLimits {
  maxBatchBlobs: number;
  maxDepth: number;
}

/**
 * True for a blob that KpiBlobSchema accepts as it is: an object with a non-negative safe-integer
 * timestamp, no reserved `_` field, and a valid `_id` (well-formed Unicode) if any. Checked by hand because zod copies
 * every blob it parses (and that was a tenth of batched ingest); zod still judges the rest, and
 * words the errors.
 */
function acceptable(candidate: unknown): candidate is KpiBlob {
  if (candidate === null || typeof candidate !== 'object' || Array.isArray(candidate)) return false;
  const blob = candidate as Record<string, unknown>;
  const timestamp = blob.timestamp;
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) return false;
  for (const key of Object.keys(blob)) {
    if (key.charCodeAt(0) === 0x5f /* _ */ && key !== '_id') return false;
  }
  const id = blob._id;
  return id === undefined || (typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH && id.charCodeAt(0) !== 0x5f && isWellFormedId(id));
}

/**
 * Turns a parsed POST body (one blob, or an array of blobs and arrays of blobs: batchEntries)
 * into blobs ready to store, in order, or throws
 * the ValidationError that rejects the whole request: one bad blob and nothing is stored.
 * With a declared event schema's checker, each blob must also pass it (which cuts the over-long
 * strings of its `truncate` fields in place).
 */
export function validateBlobs(body: unknown, limits: IngestLimits, checker?: SchemaChecker): KpiBlob[] {
  const { candidates, where, index } = batchEntries(body);
  if (candidates.length === 0) throw new ValidationError('empty_batch', 'the array is empty: post at least one blob');
  if (candidates.length > limits.maxBatchBlobs) {
    throw new ValidationError('batch_too_large', `the batch holds ${candidates.length} blobs; at most ${limits.maxBatchBlobs} are allowed per request`);
  }
  const seen = new Map<string, number>();
  return candidates.map((candidate, i) => {
    const problem = nestingProblem(candidate, limits.maxDepth);
    if (problem?.kind === 'too_deep') throw new ValidationError('too_deep', `${where(i)} is nested deeper than ${limits.maxDepth} levels`, index(i));
    if (problem?.kind === 'proto_key') {
      throw new ValidationError('invalid_blob', `${where(i)} is invalid: a field may not be named "__proto__" (at ${problem.path}): JavaScript tools drop it`, index(i));
    }
    let blob: KpiBlob;
    if (acceptable(candidate)) blob = candidate;
    else {
      const parsed = KpiBlobSchema.safeParse(candidate);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const field = issue.path.length > 0 && !issue.message.includes(String(issue.path[0])) ? ` (at ${issue.path.join('.')})` : '';
        throw new ValidationError('invalid_blob', `${where(i)} is invalid: ${issue.message}${field}`, index(i));
      }
      blob = parsed.data;
    }
    const violation = checker?.check(blob);
    if (violation !== undefined) {
      throw new ValidationError('schema_violation', `${where(i)}: ${violation.reason}`, index(i), { path: violation.path, expected: violation.expected });
    }
    const id = blob._id;
    if (id !== undefined) {
      const first = seen.get(id);
      if (first !== undefined) throw new ValidationError('duplicate_id', `${where(first)} and ${where(i)} have the same _id "${id}"`, index(i));
      seen.set(id, i);
    }
    return blob;
  });
}
