/** One route of the HTTP API, as `GET /` lists it: `route` is "METHOD /path?query". */
export interface ApiRoute {
  route: string;
  does: string;
}

/** The API at a glance, written once for both answers of `GET /` (the JSON list and the home page's table). */
export const API_ROUTES: readonly ApiRoute[] = [
  { route: 'POST /wsapi/interaction_data', does: 'store one blob or an array of blobs (JSON, or the legacy form data=<JSON text>)' },
  { route: 'GET /wsapi/interaction_data?start=&end=&limit=&descending=&shape=', does: 'start ≤ timestamp ≤ end, by timestamp: CouchDB view rows {key, id, value}, or with shape=blobs the blobs, as a JSON array' },
  { route: 'GET /wsapi/interaction_data?id=', does: 'one blob: {"results": blob}, or 404' },
  { route: 'GET /wsapi/interaction_data/count', does: 'the number of blobs, a JSON number' },
  { route: 'GET /wsapi/interaction_data/last', does: 'the blob with the greatest timestamp' },
  { route: 'GET /wsapi/interaction_data/stream?since=', does: 'the legacy change stream: one change JSON per line' },
  { route: 'WebSocket /wsapi/changes?since=', does: 'the live change feed, resumable with since (token= for a read token)' },
  { route: 'POST /wsapi/drains?start=&end=', does: 'claim the blobs of a drain' },
  { route: 'GET /wsapi/drains/:id/blobs?format=ndjson|csv&formulas=escape|raw', does: "stream a drain's blobs (CSV: formulas neutralised unless raw)" },
  { route: 'POST /wsapi/drains/:id/commit', does: "delete a drain's blobs" },
  { route: 'POST /wsapi/drains/:id/release', does: "let a drain's blobs go before its commit, deleting none" },
  { route: 'GET /wsapi/ping', does: 'pong' },
  { route: 'GET /healthz', does: 'liveness' },
  { route: 'GET /readyz', does: 'readiness: the store answers and the feed follows it' },
  { route: 'GET /metrics', does: 'Prometheus text' },
];
