import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric the service exports, on a registry of its own (one per app, so tests do not collide). */
export class Metrics {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'kpiggybank_http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly blobsAccepted = new Counter({
    name: 'kpiggybank_blobs_accepted_total',
    help: 'Blobs stored (or found already stored) and acknowledged with 201',
    registers: [this.registry],
  });

  readonly blobsRejected = new Counter({
    name: 'kpiggybank_blobs_rejected_total',
    help: 'Blobs refused, by reason (the error code of the answer)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly storeDuration = new Histogram({
    name: 'kpiggybank_store_operation_duration_seconds',
    help: 'Store operation latency by backend, operation and outcome',
    labelNames: ['backend', 'operation', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
