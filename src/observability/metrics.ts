import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { DurationHistogram } from './duration-histogram.js';

/** What the change feed's follower reports about itself (see ChangeHub.status). */
interface FollowerReport {
  state: string;
  lastContactSeconds: number;
  heartbeatSeconds: number;
}

/** Every metric the service exports, on a registry of its own (one per app, so tests do not collide). */
export class Metrics {
  readonly registry = new Registry();

  readonly httpDuration = new DurationHistogram(
    'kpiggybank_http_request_duration_seconds',
    'HTTP request duration by method, route and status',
    ['method', 'route', 'status'],
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    this.registry,
  );

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

  readonly ingestRequests = new Counter({
    name: 'kpiggybank_ingest_requests_total',
    help: 'Ingest POSTs by the path that served them: fast (plain node:http, the common JSON and form bodies) or express (compressed, chunked, other types)',
    labelNames: ['path'] as const,
    registers: [this.registry],
  });

  readonly storeDuration = new DurationHistogram(
    'kpiggybank_store_operation_duration_seconds',
    'Store operation latency by backend, operation and outcome',
    ['backend', 'operation', 'outcome'],
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    this.registry,
  );

  readonly feedSubscribers = new Gauge({
    name: 'kpiggybank_feed_subscribers',
    help: 'Change feed subscribers connected now, by transport (ws, stream)',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });

  readonly feedMessagesSent = new Counter({
    name: 'kpiggybank_feed_messages_sent_total',
    help: 'Change messages queued to subscribers, by transport',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });

  readonly feedDropped = new Counter({
    name: 'kpiggybank_feed_subscribers_dropped_total',
    help: 'Subscribers cut off by the server, by transport and reason (too_slow: send queue full; dead: no pong)',
    labelNames: ['transport', 'reason'] as const,
    registers: [this.registry],
  });

  readonly httpRefused = new Counter({
    name: 'kpiggybank_http_refused_total',
    help: 'Connections and requests refused or cut by the connection guard, by reason (too_many_connections, overloaded, body_timeout, headers_timeout, response_stalled)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly drains = new Counter({
    name: 'kpiggybank_drains_total',
    help: 'Drains by event: started (blobs claimed), committed (blobs deleted), expired (found past their lease), released (let go before the commit)',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  readonly blobsDrained = new Counter({
    name: 'kpiggybank_blobs_drained_total',
    help: 'Blobs deleted by committed drains',
    registers: [this.registry],
  });

  private follower: () => FollowerReport | undefined = () => undefined;

  constructor() {
    const follower = () => this.follower();
    new Gauge({
      name: 'kpiggybank_feed_follower_up',
      help: '1 while the change feed follows the store, 0 while it reconnects or has not started',
      registers: [this.registry],
      collect() {
        this.set(follower()?.state === 'following' ? 1 : 0);
      },
    });
    // An idle store answers once a heartbeat: alert on last_contact well above heartbeat (e.g. 3x), not above 0.
    new Gauge({
      name: 'kpiggybank_feed_follower_last_contact_seconds',
      help: 'Seconds since the store last answered the change feed follower (changes or a heartbeat); up to the heartbeat is normal',
      registers: [this.registry],
      collect() {
        this.set(follower()?.lastContactSeconds ?? 0);
      },
    });
    new Gauge({
      name: 'kpiggybank_feed_follower_heartbeat_seconds',
      help: 'How long an idle read of the store by the change feed follower waits before it returns empty (FEED_HEARTBEAT_MS)',
      registers: [this.registry],
      collect() {
        this.set(follower()?.heartbeatSeconds ?? 0);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** The change feed reports its follower here, read at each scrape. */
  observeFeed(report: () => FollowerReport): void {
    this.follower = report;
  }
}
