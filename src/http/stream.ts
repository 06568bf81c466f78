import express, { type RequestHandler, type Router } from 'express';
import { ChangesQuerySchema, Routes } from 'kpiggybank-client/wire';
import type { ChangeHub } from '../feed/change-hub.js';
import { streamChanges } from '../feed/ndjson-stream.js';
import { InvalidSeqError } from '../store/store.js';
import { keepOpenWhileSlow } from './connection-guard.js';
import { HttpError } from './http-error.js';
import { parseQuery } from './query.js';

/**
 * `GET /wsapi/interaction_data/stream[?since=]`: the change hub as a never-ending HTTP response.
 * The HTTP part (token, query, status, headers, the guard's exemption); the lines are the feed's
 * (feed/ndjson-stream.ts).
 */
export function streamRouter(hub: ChangeHub, readAccess: RequestHandler): Router {
  const router = express.Router();
  router.get(Routes.stream, readAccess, async (req, res) => {
    const { since } = parseQuery(ChangesQuerySchema, req.query);
    try {
      await hub.checkSince(since);
    } catch (error) {
      if (error instanceof InvalidSeqError) throw new HttpError(400, 'invalid_query', `since: ${error.message}`);
      throw error;
    }
    if (res.destroyed) return; // the client left during the check
    keepOpenWhileSlow(res); // idle for hours is its purpose; FEED_QUEUE_BYTES bounds a slow reader
    res.status(200).type('application/json').setHeader('Cache-Control', 'no-store');
    res.flushHeaders();
    streamChanges(hub, res, since);
  });
  return router;
}
