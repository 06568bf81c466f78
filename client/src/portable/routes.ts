// Dependency-free (no zod, no Node API): the page loads this file as it is (see backoff.ts).
// The paths are the 2012 service's, which its clients (Persona, kpi-dashboard) call: they never
// change; test/routes.test.ts pins them.

/** Every path the service answers, defined once for the server, the client, the page and the tests. */
export const Routes = {
  /** POST a blob or a batch; GET a range (`start`, `end`, `limit`, `descending`, `shape`). */
  blobs: '/wsapi/interaction_data',
  /** GET the number of stored blobs. */
  count: '/wsapi/interaction_data/count',
  /** GET the newest blob. */
  last: '/wsapi/interaction_data/last',
  /** GET the 2012 ndjson change stream. */
  stream: '/wsapi/interaction_data/stream',
  /** The WebSocket change feed (`since=<seq>|now`). */
  changes: '/wsapi/changes',
  /** GET the declared event schema (404 when the service has none). */
  schema: '/wsapi/schema',
  /** POST to open a drain. */
  drains: '/wsapi/drains',
  /** GET liveness with the legacy body. */
  ping: '/wsapi/ping',
  healthz: '/healthz',
  readyz: '/readyz',
  metrics: '/metrics',
  home: '/',
  assets: '/assets',
} as const;

/** The routes of one drain, by its id. */
export const drainRoutes = (id: string) => {
  const base = `${Routes.drains}/${encodeURIComponent(id)}`;
  return { status: base, blobs: `${base}/blobs`, commit: `${base}/commit`, release: `${base}/release` } as const;
};
