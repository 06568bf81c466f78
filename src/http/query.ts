import type { z } from 'zod';
import { HttpError } from './http-error.js';

/** A query string checked by its wire schema; the first problem becomes a 400 `invalid_query`. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  const parsed = schema.safeParse(query);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const name = String(issue.path[0] ?? 'query');
  throw new HttpError(400, 'invalid_query', issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`);
}
