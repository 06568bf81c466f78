import type { Server } from 'node:http';
import type { Express } from 'express';
import { type EventSchema, Routes } from 'kpiggybank-client/wire';
import type { Config } from '../../src/config.js';
import type { ChangeHub, ChangeHubOptions } from '../../src/feed/change-hub.js';
import type { DrainService } from '../../src/drain/drain-service.js';
import type { OriginPolicyOptions } from '../../src/access/origin-policy.js';
import type { ConnectionGuard } from '../../src/http/connection-guard.js';
import { createLogger } from '../../src/observability/logger.js';
import type { Metrics } from '../../src/observability/metrics.js';
import { createService, serviceParts } from '../../src/service.js';
import type { Store } from '../../src/store/store.js';
import { openTestStore, type Backend } from './stores.js';

export const TEST_LIMITS: Config['limits'] = { maxBodyBytes: 1024 * 1024, maxBatchBlobs: 10_000, maxDepth: 32 };

export const TEST_FEED: ChangeHubOptions & { pingMs: number } = { batchSize: 500, waitMs: 500, maxQueueBytes: 1024 * 1024, pingMs: 30_000, lingerMs: 5 };

/** The service's own defaults, but for the connection cap, which does not depend on this machine's file limit here. */
const TEST_CONNECTIONS: Config['connections'] = { maxConnections: 2000, bodyTimeoutMs: 20_000, maxInflightBodyBytes: 64 * 1024 * 1024, responseIdleTimeoutMs: 30_000 };

/** Tests cut requests still open at once when they close an app, as they always did: nothing waits for them. */
const TEST_SHUTDOWN_TIMEOUT_MS = 0;

export interface ServeOptions {
  /** The connection guard's bounds (connection-guard.ts), over TEST_CONNECTIONS. */
  connections?: Partial<Config['connections']>;
  limits?: Config['limits'];
  tokens?: Config['tokens'];
  feed?: Partial<typeof TEST_FEED>;
  drainLeaseMs?: number;
  /** The drain service's clock (Unix ms), e.g. a ManualClock's `now`; the real one by default. */
  drainClock?: () => number;
  /** Browser origins and host names allowed besides the loopback service's own. */
  origins?: Omit<OriginPolicyOptions, 'listenHost'>;
  /** Listen on this port (a restart on the same address); any free port by default. */
  port?: number;
  /**
   * How long close() lets requests in flight finish before cutting their connections (the
   * service's SHUTDOWN_TIMEOUT_MS); TEST_SHUTDOWN_TIMEOUT_MS by default.
   */
  shutdownTimeoutMs?: number;
  /** Run by close() last, where the service would close its store: the test's store is its own. */
  onClose?: () => Promise<void>;
  /** The declared event schema (the service's SCHEMA_FILE, loaded); none by default. */
  schema?: EventSchema;
}

export interface TestApp {
  app: Express;
  server: Server;
  url: string;
  store: Store;
  metrics: Metrics;
  hub: ChangeHub;
  guard: ConnectionGuard;
  drains: DrainService;
  /** `ws://…` of the change feed. */
  wsUrl: string;
  close(): Promise<void>;
}

/** The real service on a real port, over the given store, logging nothing: createService, as `npm start` builds it. */
export async function serveApp(store: Store, options: ServeOptions = {}): Promise<TestApp> {
  const { limits = TEST_LIMITS, tokens = {}, onClose = async () => {} } = options;
  const service = createService(
    store,
    {
      host: '127.0.0.1',
      port: options.port ?? 0,
      limits,
      tokens,
      feed: { ...TEST_FEED, ...options.feed },
      drainLeaseMs: options.drainLeaseMs ?? 60_000,
      connections: { ...TEST_CONNECTIONS, ...options.connections },
      origins: { allowedOrigins: [], ...options.origins },
      shutdownTimeoutMs: options.shutdownTimeoutMs ?? TEST_SHUTDOWN_TIMEOUT_MS,
      schema: options.schema,
    },
    createLogger({ logLevel: 'silent' }),
    // The test owns the store (several apps may share one): closing the app runs onClose instead of closing it.
    { drainClock: options.drainClock, closeStore: onClose },
  );
  const { port } = await service.listen();
  const { app, server, store: timed, metrics, hub, drains, guard } = service;
  return {
    app,
    server,
    store: timed,
    metrics,
    hub,
    drains,
    guard,
    close: () => service.close(),
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}${Routes.changes}`,
  };
}

export async function startTestApp(backend: Backend, options: Omit<ServeOptions, 'onClose'> = {}): Promise<TestApp> {
  const t = await openTestStore(backend);
  return serveApp(t.store, { ...options, onClose: t.cleanup });
}

/** The feed and drain of an app built without serving it (the hub is not started: no change is read). */
export function appParts(store: Store, metrics: Metrics): { hub: ChangeHub; drains: DrainService } {
  return serviceParts(store, { feed: TEST_FEED, drainLeaseMs: 60_000 }, metrics, createLogger({ logLevel: 'silent' }));
}

/** Runs `task(i)` for i in [0, total) with at most `concurrency` in flight. */
export async function pool<T>(total: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(total);
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return results;
}

/** A metric's value from the service's /metrics, as a number; undefined when it is not there. */
export async function metric(url: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}${Routes.metrics}`)).text();
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}
