import express, { type RequestHandler, type Router } from 'express';
import { GetQuerySchema, LastQuerySchema, RangeQuerySchema, Routes, type GetResponse } from 'kpiggybank-client/wire';
import { lastBlob, rangeRowPages } from '../store/range.js';
import type { Store } from '../store/store.js';
import { HttpError } from './http-error.js';
import { streamJsonArray } from './json-array.js';
import { parseQuery } from './query.js';
import { encoderFor, rowEncoderFor } from './view-row.js';

/**
 * Range, one blob, count and last: `GET /wsapi/interaction_data[/count|/last]`. A range and the
 * last blob come as the original's view rows unless `shape=blobs` (encoderFor); one blob by id
 * is `{"results": blob}` either way, as the original answered it.
 */
export function readsRouter(store: Store, readAccess: RequestHandler): Router {
  const router = express.Router();

  router.get(Routes.blobs, readAccess, async (req, res) => {
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
    // as JSON text: a store that keeps blobs as text (leveldb) hands it over, never parsed here
    await streamJsonArray(res, rangeRowPages(store, query), rowEncoderFor(query.shape));
  });

  router.get(Routes.count, readAccess, async (_req, res) => {
    res.json(await store.count());
  });

  router.get(Routes.last, readAccess, async (req, res) => {
    const { shape } = parseQuery(LastQuerySchema, req.query);
    const blob = await lastBlob(store);
    if (!blob) throw new HttpError(404, 'not_found', 'the store holds no blobs yet');
    res.type('application/json').send(encoderFor(shape)(blob));
  });

  return router;
}
