import { z } from 'zod';

/** Query strings arrive as text; a bound must be a whole number, nothing looser. */
function integerParam(name: string) {
  return z
    .string()
    .regex(/^-?\d+$/, `${name} must be an integer`)
    .transform(Number)
    .pipe(z.int(`${name} is out of range`));
}

const booleanParam = z.enum(['true', 'false', '1', '0'], 'descending must be true or false').transform((v) => v === 'true' || v === '1');

/**
 * How a range and `/last` answer: `rows`, the original's CouchDB view rows `{key, id, value}`
 * (what its production clients read, and the default), or `blobs`, the blobs themselves (what the
 * typed client asks for).
 */
const ShapeSchema = z.enum(['rows', 'blobs'], 'shape must be rows or blobs').default('rows');
export type Shape = z.output<typeof ShapeSchema>;

/** `GET /wsapi/interaction_data?start=&end=&limit=&descending=&shape=`: `start ≤ timestamp ≤ end`, both optional. */
export const RangeQuerySchema = z.object({
  start: integerParam('start').optional(),
  end: integerParam('end').optional(),
  limit: integerParam('limit').pipe(z.int().min(1, 'limit must be at least 1')).optional(),
  descending: booleanParam.optional(),
  shape: ShapeSchema,
});
export type RangeQuery = z.output<typeof RangeQuerySchema>;

/** `GET /wsapi/interaction_data/last?shape=` */
export const LastQuerySchema = z.object({ shape: ShapeSchema });

/** `GET /wsapi/interaction_data?id=`: one blob by id. */
export const GetQuerySchema = z.object({ id: z.string('id must be given once').min(1, 'id must not be empty') });
