import { Routes } from 'kpiggybank-client/wire';
import { DRAIN_PATTERNS } from './drain-patterns.js';

/** One route of the HTTP API, as `GET /` lists it: `route` is "METHOD /path?query". */
export interface ApiRoute {
  route: string;
  does: string;
}

/** The API at a glance, written once for both answers of `GET /` (the JSON list and the home page's table). */
export const API_ROUTES: readonly ApiRoute[] = [
  { route: `POST ${Routes.blobs}`, does: 'store one blob or an array of blobs (JSON, or the legacy form data=<JSON text>)' },
  {
    route: `GET ${Routes.blobs}?start=&end=&limit=&descending=&shape=`,
    does: 'start ≤ timestamp ≤ end, by timestamp: CouchDB view rows {key, id, value}, or with shape=blobs the blobs, as a JSON array',
  },
  { route: `GET ${Routes.blobs}?id=`, does: 'one blob: {"results": blob}, or 404' },
  { route: `GET ${Routes.count}`, does: 'the number of blobs, a JSON number' },
  { route: `GET ${Routes.last}`, does: 'the blob with the greatest timestamp' },
  { route: `GET ${Routes.schema}`, does: 'the declared event schema (SCHEMA_FILE) as JSON, or 404 when the service accepts any blob' },
  { route: `GET ${Routes.stream}?since=`, does: 'the legacy change stream: one change JSON per line' },
  { route: `WebSocket ${Routes.changes}?since=`, does: 'the live change feed, resumable with since (token= for a read token)' },
  { route: `POST ${Routes.drains}?start=&end=`, does: 'claim the blobs of a drain' },
  { route: `GET ${DRAIN_PATTERNS.blobs}?format=ndjson|csv&formulas=escape|raw`, does: "stream a drain's blobs (CSV: formulas neutralised unless raw)" },
  { route: `POST ${DRAIN_PATTERNS.commit}`, does: "delete a drain's blobs" },
  { route: `POST ${DRAIN_PATTERNS.release}`, does: "let a drain's blobs go before its commit, deleting none" },
  { route: `GET ${Routes.ping}`, does: 'pong' },
  { route: `GET ${Routes.healthz}`, does: 'liveness' },
  { route: `GET ${Routes.readyz}`, does: 'readiness: the store answers and the feed follows it' },
  { route: `GET ${Routes.metrics}`, does: 'Prometheus text' },
];
