import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { EventSchema } from 'kpiggybank-client/wire';
import type { Logger } from 'pino';
import { originPolicy, type OriginPolicyOptions } from './access/origin-policy.js';
import { createApp } from './app.js';
import type { Config } from './config.js';
import { DrainService } from './drain/drain-service.js';
import { ChangeHub } from './feed/change-hub.js';
import { attachWebSocketRelay } from './feed/ws-relay.js';
import { guardConnections, type ConnectionGuard, type RefusedReason } from './http/connection-guard.js';
import { InstrumentedStore } from './observability/instrumented-store.js';
import { Metrics } from './observability/metrics.js';
import type { Store } from './store/store.js';

/**
 * The settings the service is built from: the parts of Config that are not about the process or
 * the store (a Config is one). `host` is also what the origin policy counts as the service's own.
 */
export type ServiceSettings = Pick<Config, 'host' | 'port' | 'limits' | 'tokens' | 'feed' | 'drainLeaseMs' | 'connections' | 'shutdownTimeoutMs'> & {
  origins: Omit<OriginPolicyOptions, 'listenHost'>;
  /** The declared event schema (SCHEMA_FILE, loaded by server.ts); without one, any blob is accepted as always. */
  schema?: EventSchema;
};

export interface ServiceOptions {
  /** The drain's clock (Unix ms); Date.now by default. */
  drainClock?: () => number;
  /**
   * The last step of close(): closes the store by default. Tests that share one store between
   * services, or remove its folder afterwards, pass what they need instead.
   */
  closeStore?: () => Promise<void>;
}

export interface Service {
  app: Express;
  server: Server;
  /** The store as the service uses it: timed (InstrumentedStore). Open it before listen(). */
  store: Store;
  metrics: Metrics;
  hub: ChangeHub;
  drains: DrainService;
  guard: ConnectionGuard;
  /** Starts following the store's changes and listens on settings.host:settings.port. */
  listen(): Promise<AddressInfo>;
  /**
   * Stops without losing an acknowledged blob: stops accepting, tells feed subscribers to go,
   * lets requests in flight finish for settings.shutdownTimeoutMs, then cuts their connections
   * and closes the store. Called twice, the second call waits for the first.
   */
  close(): Promise<void>;
}

/** How often a connection-guard refusal is logged at most, per reason: under a flood, one line says it. */
const REFUSAL_LOG_MS = 60_000;

/** The change hub and the drain service over `store`: what the HTTP app and the feed transports share. */
export function serviceParts(
  store: Store,
  settings: Pick<ServiceSettings, 'feed' | 'drainLeaseMs'>,
  metrics: Metrics,
  logger: Logger,
  options: Pick<ServiceOptions, 'drainClock'> = {},
): { hub: ChangeHub; drains: DrainService } {
  return { hub: new ChangeHub(store, settings.feed, metrics, logger), drains: new DrainService(store, settings.drainLeaseMs, metrics, logger, options.drainClock) };
}

/**
 * The composition root: the service over `store`, wired once for `npm start` (server.ts) and the
 * tests (test/support/app.ts). Nothing is read from the environment here, and nothing exits.
 */
export function createService(backendStore: Store, settings: ServiceSettings, logger: Logger, options: ServiceOptions = {}): Service {
  const metrics = new Metrics();
  const store = new InstrumentedStore(backendStore, metrics);
  const { closeStore = () => store.close() } = options;
  let shuttingDown = false;
  const { hub, drains } = serviceParts(store, settings, metrics, logger, options);
  const origins = originPolicy({ listenHost: settings.host, ...settings.origins });
  const app = createApp({
    store,
    metrics,
    logger,
    limits: settings.limits,
    hub,
    drains,
    tokens: settings.tokens,
    isShuttingDown: () => shuttingDown,
    origins,
    schema: settings.schema,
  });
  const server = createServer(app);
  const relay = attachWebSocketRelay(server, { hub, metrics, logger, readToken: settings.tokens.read, pingMs: settings.feed.pingMs, origins });
  const lastLogged = new Map<RefusedReason, number>();
  const guard = guardConnections(server, {
    ...settings.connections,
    maxBodyBytes: settings.limits.maxBodyBytes,
    onRefused: (reason) => {
      metrics.httpRefused.inc({ reason });
      const now = Date.now();
      if (now - (lastLogged.get(reason) ?? 0) < REFUSAL_LOG_MS) return;
      lastLogged.set(reason, now);
      logger.warn({ reason, maxConnections: settings.connections.maxConnections }, 'connection guard: refused or cut a client (see kpiggybank_http_refused_total)');
    },
  });

  const shutdown = async (): Promise<void> => {
    shuttingDown = true;
    // Stop accepting; requests already received finish and get their answers. Subscribers are
    // told to go (WebSocket close going_away; the legacy stream ends): they resume elsewhere with since.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    hub.close();
    await relay.close();
    guard.close();
    server.closeIdleConnections();
    const force = setTimeout(() => {
      logger.warn(`requests still open after ${settings.shutdownTimeoutMs} ms: closing their connections`);
      server.closeAllConnections();
    }, settings.shutdownTimeoutMs);
    force.unref();
    await closed;
    clearTimeout(force);
    await closeStore(); // flushes queued group-commit writes
  };
  let closing: Promise<void> | undefined;

  return {
    app,
    server,
    store,
    metrics,
    hub,
    drains,
    guard,
    listen() {
      hub.start();
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(settings.port, settings.host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}
