import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import type { EventSchema } from 'kpiggybank-client/wire';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { DrainService } from './drain/drain-service.js';
import type { ChangeHub } from './feed/change-hub.js';
import { requireToken } from './http/auth.js';
import { drainRouter } from './http/drain.js';
import { errorHandler, notFound } from './http/errors.js';
import { healthRouter } from './http/health.js';
import { homeRouter } from './http/home.js';
import { ingestRouter } from './http/ingest.js';
import { ingestFastPath } from './http/ingest-fast-path.js';
import { metricsRouter } from './http/metrics.js';
import { originPolicy, PREFLIGHT_HEADERS, type OriginPolicy } from './access/origin-policy.js';
import { readsRouter } from './http/reads.js';
import { schemaRouter } from './http/schema.js';
import { compileSchema } from './schema/compile-schema.js';
import { requestLog, requestMetrics } from './http/request-log.js';
import { RESPONSE_HEADERS } from './http/response-headers.js';
import { streamRouter } from './http/stream.js';
import type { Metrics } from './observability/metrics.js';
import type { Store } from './store/store.js';

interface AppDeps {
  store: Store;
  metrics: Metrics;
  logger: Logger;
  limits: Config['limits'];
  hub: ChangeHub;
  drains: DrainService;
  tokens?: Config['tokens'];
  /** True once shutdown began: readiness fails and connections are not kept alive. */
  isShuttingDown?: () => boolean;
  /** Which hosts and browser origins may call; by default a loopback service's own pages only. */
  origins?: OriginPolicy;
  /** The declared event schema, checked at ingest and served at GET /wsapi/schema; none: any blob is accepted. */
  schema?: EventSchema | undefined;
}

const LOOPBACK_ONLY = originPolicy({ listenHost: '127.0.0.1', allowedOrigins: [] });

/** The HTTP API wired to its dependencies; it knows the Store interface, never a backend. */
export function createApp({ store, metrics, logger, limits, hub, drains, tokens = {}, isShuttingDown = () => false, origins = LOOPBACK_ONLY, schema }: AppDeps): Express {
  const readAccess = requireToken(tokens.read, 'read');
  // Compiled once here, for both ingest paths: no blob pays for reading the schema.
  const checker = schema === undefined ? undefined : compileSchema(schema);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // KPI data changes by the second; hashing every answer buys nothing

  app.use(requestMetrics(metrics));
  app.use(requestLog(logger));
  app.use((req, res, next) => {
    if (isShuttingDown()) res.setHeader('Connection', 'close');
    res.set(RESPONSE_HEADERS);
    const refused = origins.refusal(req.headers);
    if (refused) return next(refused);
    res.set(origins.corsHeaders(req.headers));
    if (req.method === 'OPTIONS' && req.headers.origin !== undefined) return void res.set(PREFLIGHT_HEADERS).status(204).end();
    next();
  });

  app.use(healthRouter(store, hub, isShuttingDown));
  app.use(metricsRouter(metrics));
  app.use(ingestRouter({ store, metrics, limits, checker, writeAccess: requireToken(tokens.write, 'write') }));
  app.use(readsRouter(store, readAccess));
  app.use(schemaRouter(schema, readAccess));
  app.use(streamRouter(hub, readAccess));
  app.use(drainRouter(drains, tokens.drain));
  app.use(homeRouter(store.backend));

  app.use(notFound());
  app.use(errorHandler(logger));
  return withFastPath(app, ingestFastPath({ store, metrics, limits, checker, logger, writeToken: tokens.write, isShuttingDown, origins }));
}

type Handle = (req: IncomingMessage, res: ServerResponse, next?: unknown) => void;

/**
 * Lets `fast` answer the requests it takes before Express sees them. The app stays an Express app
 * (app.listen, supertest and createServer(app) all work): an Express app is a function that calls
 * `app.handle` for every request, and this wraps that method.
 */
function withFastPath(app: Express, fast: (req: IncomingMessage, res: ServerResponse) => boolean): Express {
  const handled = app as Express & { handle: Handle };
  const handle: Handle = handled.handle.bind(app);
  handled.handle = (req, res, next) => {
    if (!fast(req, res)) handle(req, res, next);
  };
  return app;
}
