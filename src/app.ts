import express, { type Express } from 'express';
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
import { metricsRouter } from './http/metrics.js';
import { readsRouter } from './http/reads.js';
import { requestLog, requestMetrics } from './http/request-log.js';
import { streamRouter } from './http/stream.js';
import type { Metrics } from './metrics.js';
import type { Store } from './store/store.js';

export interface AppDeps {
  store: Store;
  metrics: Metrics;
  logger: Logger;
  limits: Config['limits'];
  hub: ChangeHub;
  drains: DrainService;
  tokens?: Config['tokens'];
  /** True once shutdown began: readiness fails and connections are not kept alive. */
  isShuttingDown?: () => boolean;
}

/** The HTTP API wired to its dependencies; it knows the Store interface, never a backend. */
export function createApp({ store, metrics, logger, limits, hub, drains, tokens = {}, isShuttingDown = () => false }: AppDeps): Express {
  const readAccess = requireToken(tokens.read, 'read');
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // KPI data changes by the second; hashing every answer buys nothing

  app.use(requestMetrics(metrics));
  app.use(requestLog(logger));
  app.use((_req, res, next) => {
    if (isShuttingDown()) res.setHeader('Connection', 'close');
    next();
  });

  app.use(healthRouter(store, hub, isShuttingDown));
  app.use(metricsRouter(metrics));
  app.use(ingestRouter({ store, metrics, limits, writeAccess: requireToken(tokens.write, 'write') }));
  app.use(readsRouter(store, readAccess));
  app.use(streamRouter(hub, readAccess));
  app.use(drainRouter(drains, tokens.drain));
  app.use(homeRouter(store.backend));

  app.use(notFound());
  app.use(errorHandler(logger));
  return app;
}
