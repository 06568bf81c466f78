import express, { type RequestHandler, type Response, type Router } from 'express';
import { DrainReadQuerySchema, DrainStartQuerySchema, Routes, type Drain } from 'kpiggybank-client/wire';
import { CsvColumns } from '../drain/csv.js';
import { DrainError, type DrainHolder, type DrainInfo, type DrainService } from '../drain/drain-service.js';
import { requireToken } from './auth.js';
import { DRAIN_PATTERNS } from './drain-patterns.js';
import { HttpError } from './http-error.js';
import { writable } from './json-array.js';
import { parseQuery } from './query.js';

/** A released drain answers like an expired one (410: it holds nothing), which older clients know. */
const STATUS = {
  unknown: [404, 'not_found'],
  committed: [409, 'drain_committed'],
  busy: [409, 'drain_committed'],
  expired: [410, 'drain_expired'],
  released: [410, 'drain_expired'],
} as const;

async function drainCall<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof DrainError)) throw error;
    const [status, code] = STATUS[error.problem];
    const headers: Record<string, string> = error.until === undefined ? {} : { 'Retry-After': String(Math.max(1, Math.ceil((error.until - Date.now()) / 1000))) };
    throw new HttpError(status, code, error.message, undefined, headers);
  }
}

/** Draining is off unless DRAIN_TOKEN is set; then every drain request carries it. */
function drainAccess(token: string | undefined): RequestHandler {
  if (token === undefined) {
    return (_req, _res, next) =>
      next(new HttpError(403, 'forbidden', 'draining is disabled: start the service with DRAIN_TOKEN set, and send it as Authorization: Bearer <token>'));
  }
  return requireToken(token, 'drain');
}

async function write(res: Response, text: string): Promise<void> {
  if (!res.write(text)) await writable(res);
}

function describe(drain: DrainInfo, held?: DrainHolder[]): Drain {
  const answer: Drain = { id: drain.id, count: drain.count, expiresAt: drain.expiresAt, start: drain.start, end: drain.end };
  if (held) answer.held = held;
  return answer;
}

/**
 * The destructive read, in three steps: `POST /wsapi/drains` claims, `GET /wsapi/drains/:id/blobs`
 * streams (NDJSON or CSV, as often as needed), `POST /wsapi/drains/:id/commit` deletes.
 * `POST /wsapi/drains/:id/release` lets the blobs go instead, before the commit.
 */
export function drainRouter(drains: DrainService, token: string | undefined): Router {
  const router = express.Router();
  router.use(Routes.drains, drainAccess(token));

  router.post(Routes.drains, async (req, res) => {
    const range = parseQuery(DrainStartQuerySchema, req.query);
    if (range.start !== undefined && range.end !== undefined && range.start > range.end) {
      throw new HttpError(400, 'invalid_query', 'start must not be after end');
    }
    // A claim takes minutes on a large store; a client that leaves meanwhile never learns the id.
    let gone = false;
    res.once('close', () => (gone = !res.writableFinished));
    const drain = await drains.begin(range);
    if (gone) return drains.abandon(drain.id);
    res.status(201).json(describe(drain, drain.held));
  });

  router.get(DRAIN_PATTERNS.status, async (req, res) => {
    res.json(describe(await drainCall(() => drains.info(req.params.id))));
  });

  router.get(DRAIN_PATTERNS.blobs, async (req, res) => {
    const { format, formulas } = parseQuery(DrainReadQuerySchema, req.query);
    const drain = await drainCall(() => drains.info(req.params.id));
    res.status(200).setHeader('X-Drain-Count', String(drain.count));
    res.type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
    if (format === 'csv') {
      // The header is the union of every blob's fields: one pass to learn it, one to write.
      const columns = new CsvColumns(formulas);
      for await (const page of drains.blobs(drain)) for (const blob of page) columns.add(blob);
      await write(res, columns.headerLine());
      for await (const page of drains.blobs(drain)) {
        if (res.destroyed) return;
        await write(res, page.map((blob) => columns.row(blob)).join(''));
      }
    } else {
      for await (const page of drains.blobs(drain)) {
        if (res.destroyed) return; // the client left: nothing is lost, the drain is not committed
        await write(res, page.map((blob) => `${JSON.stringify(blob)}\n`).join(''));
      }
    }
    res.end();
  });

  router.post(DRAIN_PATTERNS.commit, async (req, res) => {
    const { removed } = await drainCall(() => drains.commit(req.params.id));
    res.json({ ok: true, id: req.params.id, removed });
  });

  router.post(DRAIN_PATTERNS.release, async (req, res) => {
    const { released } = await drainCall(() => drains.release(req.params.id));
    res.json({ ok: true, id: req.params.id, released });
  });

  return router;
}
