import express, { type Request, type RequestHandler, type Router } from 'express';
import type { IngestResponse } from 'kpiggybank-client/wire';
import { validateBlobs, type IngestLimits } from '../ingest/validate.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/store.js';
import { toHttpError } from './errors.js';
import { HttpError } from './http-error.js';

export interface IngestDeps {
  store: Store;
  metrics: Metrics;
  limits: IngestLimits & { maxBodyBytes: number };
  /** Checks the write token (before the body is read). */
  writeAccess: RequestHandler;
}

/** The JSON text of the blob(s): the body itself, or the legacy form's `data` field. */
function parsedBody(req: Request): unknown {
  if (req.is(['application/json', 'application/*+json'])) return req.body;
  if (req.is('application/x-www-form-urlencoded')) {
    const data: unknown = (req.body as Record<string, unknown>).data;
    if (data === undefined) throw new HttpError(400, 'missing_data', 'the form has no data field: send data=<JSON blob or array>');
    if (typeof data !== 'string') throw new HttpError(400, 'missing_data', 'the form must carry exactly one data field');
    try {
      return JSON.parse(data);
    } catch (error) {
      throw new HttpError(400, 'malformed_json', `the data field is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (req.headers['content-type'] === undefined) {
    throw new HttpError(400, 'missing_data', 'the request has no Content-Type: post application/json, or a form with data=<JSON>');
  }
  throw new HttpError(415, 'unsupported_media_type', `cannot read ${req.headers['content-type']}: post application/json, or application/x-www-form-urlencoded with data=<JSON>`);
}

/** `POST /wsapi/interaction_data`: one blob or an array; 201 only once the store has acknowledged them all. */
export function ingestRouter({ store, metrics, limits, writeAccess }: IngestDeps): Router {
  const router = express.Router();
  const bodyParsers = [
    express.json({ limit: limits.maxBodyBytes, strict: false, type: ['application/json', 'application/*+json'] }),
    express.urlencoded({ extended: false, limit: limits.maxBodyBytes, parameterLimit: 100 }),
  ];

  router.post('/wsapi/interaction_data', writeAccess, ...bodyParsers, async (req, res) => {
    const blobs = validateBlobs(parsedBody(req), limits);
    const result = await store.save(blobs);
    metrics.blobsAccepted.inc(blobs.length);
    const body: IngestResponse = { ok: true, ...result };
    res.status(201).json(body);
  });

  // Count what was refused before handing the error on to the app's JSON error handler.
  router.use('/wsapi/interaction_data', ((error, req, _res, next) => {
    if (req.method === 'POST') {
      const blobs = Array.isArray(req.body) ? Math.max(req.body.length, 1) : 1;
      metrics.blobsRejected.inc({ reason: toHttpError(error).http.code }, blobs);
    }
    next(error);
  }) as express.ErrorRequestHandler);

  return router;
}
