import { KpiBlobSchema } from 'kpiggybank-client/wire';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/ingest/validation-error.js';
import { validateBlobs } from '../src/ingest/validate.js';

const LIMITS = { maxBatchBlobs: 100, maxDepth: 32 };

// validateBlobs accepts common blobs without zod (zod copies each one): its verdict must be zod's.
const CANDIDATES: unknown[] = [
  { timestamp: 0 },
  { timestamp: 1_338_000_000, lang: 'en', nested: { a: [1, { b: 2 }] } },
  { timestamp: 1_338_000_000_123, _id: 'chosen' },
  { timestamp: Number.MAX_SAFE_INTEGER },
  { timestamp: Number.MAX_SAFE_INTEGER + 1 },
  { timestamp: -1 },
  { timestamp: 1.5 },
  { timestamp: '1' },
  { timestamp: null },
  {},
  { lang: 'en' },
  null,
  'text',
  42,
  { timestamp: 1, _rev: '1-a' },
  { timestamp: 1, _deleted: true },
  { timestamp: 1, __proto__x: 1 },
  JSON.parse('{"timestamp":1,"__proto__":{"x":1}}'),
  { timestamp: 1, _id: '' },
  { timestamp: 1, _id: '_design/x' },
  { timestamp: 1, _id: 'x'.repeat(256) },
  { timestamp: 1, _id: 'x'.repeat(257) },
  { timestamp: 1, _id: 7 },
  { timestamp: 1, _id: null },
  { timestamp: 1, id_: 'fine', a_b: 1 },
  { timestamp: 1, _id: 'sur\ud800' },
  { timestamp: 1, _id: '\udc00sur' },
  { timestamp: 1, _id: 'sur\ud83d\ude00' },
  JSON.parse('{"timestamp":1,"__proto__":7}'),
];

describe('validateBlobs', () => {
  it('refuses a nested __proto__ key, which zod does not look at, naming where it is', () => {
    const nested = JSON.parse('[{"timestamp":1},{"timestamp":1,"a":[{"b":{"__proto__":{}}}]}]') as unknown;
    expect(() => validateBlobs(nested, LIMITS)).toThrow(expect.objectContaining({ code: 'invalid_blob', index: 1, message: expect.stringContaining('a.0.b.__proto__') }));
  });

  it.each(CANDIDATES.map((candidate) => ({ candidate, text: JSON.stringify(candidate) })))('judges $text as zod does', ({ candidate }) => {
    const zod = KpiBlobSchema.safeParse(candidate);
    let accepted: unknown;
    let refused: unknown;
    try {
      accepted = validateBlobs(candidate, LIMITS)[0];
    } catch (error) {
      refused = error;
    }
    if (zod.success) {
      expect(refused).toBeUndefined();
      expect(accepted).toEqual(zod.data);
    } else {
      expect(refused).toBeInstanceOf(ValidationError);
      expect((refused as ValidationError).code).toBe('invalid_blob');
    }
  });
});
