import express, { type Router } from 'express';
import { GetQuerySchema, RangeQuerySchema, type GetResponse } from 'kpiggybank-client/wire';
import type { z } from 'zod';
import { lastBlob, rangePages } from '../store/range.js';
import type { Store } from '../store/store.js';
import { HttpError } from './http-error.js';
import { streamJsonArray } from './json-array.js';

function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  const parsed = schema.safeParse(query);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const name = String(issue.path[0] ?? 'query');
  throw new HttpError(400, 'invalid_query', issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`);
}

/** Range, one blob, count and last: `GET /wsapi/interaction_data[/count|/last]`. */
export function readsRouter(store: Store): Router {
  const router = express.Router();

  router.get('/wsapi/interaction_data', async (req, res) => {
    if (req.query.id !== undefined) {
      const { id } = parseQuery(GetQuerySchema, req.query);
      // ids starting with "_" are CouchDB's own documents (the design document), never blobs
      const blob = id.startsWith('_') ? undefined : await store.get(id);
      if (!blob) throw new HttpError(404, 'not_found', `no blob has the id ${JSON.stringify(id)}`);
      const body: GetResponse = { results: blob };
      res.json(body);
      return;
    }
    const query = parseQuery(RangeQuerySchema, req.query);
    await streamJsonArray(res, rangePages(store, query));
  });

  router.get('/wsapi/interaction_data/count', async (_req, res) => {
    res.json(await store.count());
  });

  router.get('/wsapi/interaction_data/last', async (_req, res) => {
    const blob = await lastBlob(store);
    if (!blob) throw new HttpError(404, 'not_found', 'the store holds no blobs yet');
    res.json(blob);
  });

  return router;
}
