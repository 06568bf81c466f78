import express, { type Request, type RequestHandler, type Router } from 'express';
import { Routes, type IngestResponse } from 'kpiggybank-client/wire';
import { validateBlobs, type IngestLimits } from '../ingest/validate.js';
import type { Metrics } from '../observability/metrics.js';
import type { SchemaChecker } from '../schema/schema-violation.js';
import type { Store } from '../store/store.js';
import { toHttpError } from './errors.js';
import { HttpError } from './http-error.js';

export interface IngestDeps {
  store: Store;
  metrics: Metrics;
  limits: IngestLimits & { maxBodyBytes: number };
  /** Checks the write token (before the body is read). */
  writeAccess: RequestHandler;
  /** The declared event schema, compiled (once, by the app); without it any blob passes as always. */
  checker?: SchemaChecker | undefined;
}

/** The legacy form's `data` field (a string when sent once), parsed as the blob(s) it carries. */
export function formData(data: unknown): unknown {
  if (data === undefined || data === null) throw new HttpError(400, 'missing_data', 'the form has no data field: send data=<JSON blob or array>');
  if (typeof data !== 'string') throw new HttpError(400, 'missing_data', 'the form must carry exactly one data field');
  try {
    return JSON.parse(data);
  } catch (error) {
    throw new HttpError(400, 'malformed_json', `the data field is not valid JSON: ${(error as Error).message}`);
  }
}

/** A POST body that is neither JSON nor a form: 400 without a Content-Type, else 415. */
function unsupportedBody(contentType: string | undefined): HttpError {
  if (contentType === undefined) {
    return new HttpError(400, 'missing_data', 'the request has no Content-Type: post application/json, or a form with data=<JSON>');
  }
  return new HttpError(415, 'unsupported_media_type', `cannot read ${contentType}: post application/json, or application/x-www-form-urlencoded with data=<JSON>`);
}

/** Validates, stores and counts the parsed body: what every way into ingest does once it has read one. */
export async function storeBody(body: unknown, { store, metrics, limits, checker }: Pick<IngestDeps, 'store' | 'metrics' | 'limits' | 'checker'>): Promise<IngestResponse> {
  const blobs = validateBlobs(body, limits, checker);
  const result = await store.save(blobs);
  metrics.blobsAccepted.inc(blobs.length);
  return { ok: true, ...result };
}

/** Counts the blobs of a refused POST (at least one; those of arrays in the batch too) under the error code of its answer. */
export function countRejected(metrics: Metrics, code: string, body: unknown): void {
  const blobs = Array.isArray(body) ? body.reduce((n: number, entry: unknown) => n + (Array.isArray(entry) ? entry.length : 1), 0) : 1;
  metrics.blobsRejected.inc({ reason: code }, Math.max(blobs, 1));
}

/** The JSON text of the blob(s): the body itself, or the legacy form's `data` field. */
function parsedBody(req: Request): unknown {
  if (req.is(['application/json', 'application/*+json'])) return req.body;
  if (req.is('application/x-www-form-urlencoded')) return formData((req.body as Record<string, unknown>).data);
  throw unsupportedBody(req.headers['content-type']);
}

/**
 * `POST /wsapi/interaction_data` through Express: one blob or an array; 201 only once the store has
 * acknowledged them all. Common requests take the fast path (ingest-fast-path.ts) instead; this
 * route serves the rest: compressed or chunked bodies, other charsets, `+json` types, odd paths.
 */
export function ingestRouter({ store, metrics, limits, writeAccess, checker }: IngestDeps): Router {
  const router = express.Router();
  const bodyParsers = [
    express.json({ limit: limits.maxBodyBytes, strict: false, type: ['application/json', 'application/*+json'] }),
    express.urlencoded({ extended: false, limit: limits.maxBodyBytes, parameterLimit: 100 }),
  ];

  const counted: RequestHandler = (_req, _res, next) => {
    metrics.ingestRequests.inc({ path: 'express' });
    next();
  };

  // The blobs each request carried, for counting a refusal: a form's req.body is {data: "<JSON>"}, one entry whatever it holds.
  const carried = new WeakMap<Request, unknown>();
  router.post(Routes.blobs, counted, writeAccess, ...bodyParsers, async (req, res) => {
    const body = parsedBody(req);
    carried.set(req, body);
    res.status(201).json(await storeBody(body, { store, metrics, limits, checker }));
  });

  // Count what was refused before handing the error on to the app's JSON error handler.
  router.use(Routes.blobs, ((error, req, _res, next) => {
    if (req.method === 'POST') countRejected(metrics, toHttpError(error).http.code, carried.has(req) ? carried.get(req) : req.body);
    next(error);
  }) as express.ErrorRequestHandler);

  return router;
}
