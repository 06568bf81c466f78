import express, { type RequestHandler, type Router } from 'express';
import { type EventSchema, Routes } from 'kpiggybank-client/wire';
import { HttpError } from './http-error.js';

/** What a service without SCHEMA_FILE answers: the 404 says why, so that it is not taken for a wrong path. */
const NO_SCHEMA_REASON = 'this service has no event schema (SCHEMA_FILE is not set): it accepts any blob';

/**
 * `GET /wsapi/schema`: the declared event schema as the service applies it (parsed, defaults
 * filled), or 404 without one. A read like the others: with READ_TOKEN it needs the token, since
 * the field names say what the store holds.
 */
export function schemaRouter(schema: EventSchema | undefined, readAccess: RequestHandler): Router {
  const router = express.Router();
  // serialised once: the schema is fixed for the service's life
  const body = schema === undefined ? undefined : JSON.stringify(schema);
  router.get(Routes.schema, readAccess, (_req, res) => {
    if (body === undefined) throw new HttpError(404, 'not_found', NO_SCHEMA_REASON);
    res.type('application/json').send(body);
  });
  return router;
}
