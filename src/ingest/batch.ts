import { ValidationError } from './validation-error.js';

/** The blobs a POST body holds, and how an error names each: its place in the body as sent. */
interface BatchEntries {
  candidates: unknown[];
  /** "the blob", "blob 3", or "blob 2.1" (the second of the array at 2). */
  where(k: number): string;
  /** The `index` of an error about candidate k: its position in the body's top-level array. */
  index(k: number): number | undefined;
}

/**
 * One blob, an array of blobs, or an array holding arrays of blobs: Persona (since October 2013)
 * queues a browser's whole array as one entry, so its `data=` can be `[{…}, [{…}, {…}], {…}]`,
 * which the original stored blob by blob (cradle's save took an array as a bulk write). One
 * level is flattened, in order; an array deeper than that is refused.
 */
export function batchEntries(body: unknown): BatchEntries {
  if (!Array.isArray(body)) return { candidates: [body], where: () => 'the blob', index: () => undefined };
  if (!body.some(Array.isArray)) return { candidates: body, where: (k) => `blob ${k}`, index: (k) => k };
  const candidates: unknown[] = [];
  const outer: number[] = [];
  const inner: (number | undefined)[] = [];
  body.forEach((entry: unknown, i) => {
    if (!Array.isArray(entry)) {
      candidates.push(entry);
      outer.push(i);
      inner.push(undefined);
      return;
    }
    entry.forEach((blob: unknown, j) => {
      if (Array.isArray(blob)) {
        throw new ValidationError('too_deep', `blob ${i}.${j} is an array: a batch may hold blobs and arrays of blobs, nothing nested deeper`, i);
      }
      candidates.push(blob);
      outer.push(i);
      inner.push(j);
    });
  });
  return {
    candidates,
    where: (k) => (inner[k] === undefined ? `blob ${outer[k]}` : `blob ${outer[k]}.${inner[k]}`),
    index: (k) => outer[k],
  };
}
