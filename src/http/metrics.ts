import express, { type Router } from 'express';
import { Routes } from 'kpiggybank-client/wire';
import type { Metrics } from '../observability/metrics.js';

/** `GET /metrics`: Prometheus text format. */
export function metricsRouter(metrics: Metrics): Router {
  const router = express.Router();
  router.get(Routes.metrics, async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return router;
}
