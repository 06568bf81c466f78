import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { createApp } from '../../src/app.js';
import { DrainService } from '../../src/drain/drain-service.js';
import { ChangeHub, type ChangeHubOptions } from '../../src/feed/change-hub.js';
import { attachWebSocketRelay } from '../../src/feed/ws-relay.js';
import type { Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { originPolicy, type OriginPolicyOptions } from '../../src/access/origin-policy.js';
import { guardConnections, type ConnectionGuard } from '../../src/http/connection-guard.js';
import { InstrumentedStore } from '../../src/observability/instrumented-store.js';
import type { Store } from '../../src/store/store.js';
import { openTestStore, type Backend } from './stores.js';

export const TEST_LIMITS: Config['limits'] = { maxBodyBytes: 1024 * 1024, maxBatchBlobs: 10_000, maxDepth: 32 };

export const TEST_FEED: ChangeHubOptions & { pingMs: number } = { batchSize: 500, waitMs: 500, maxQueueBytes: 1024 * 1024, pingMs: 30_000, lingerMs: 5 };

/** The service's own defaults, but for the connection cap, which does not depend on this machine's file limit here. */
export const TEST_CONNECTIONS: Config['connections'] = { maxConnections: 2000, bodyTimeoutMs: 20_000, maxInflightBodyBytes: 64 * 1024 * 1024, responseIdleTimeoutMs: 30_000 };

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
  onClose?: () => Promise<void>;
}

export interface TestApp {
  app: Express;
  server: Server;
  url: string;
  store: Store;
  metrics: Metrics;
  hub: ChangeHub;
  guard: ConnectionGuard;
  /** `ws://…` of the change feed. */
  wsUrl: string;
  close(): Promise<void>;
}

/** The real app on a real port, over the given store, logging nothing. */
export async function serveApp(store: Store, options: ServeOptions = {}): Promise<TestApp> {
  const { limits = TEST_LIMITS, tokens = {}, onClose = async () => {} } = options;
  const feed = { ...TEST_FEED, ...options.feed };
  const metrics = new Metrics();
  const logger = createLogger({ logLevel: 'silent' });
  const instrumented = new InstrumentedStore(store, metrics);
  const hub = new ChangeHub(instrumented, feed, metrics, logger);
  const drains = new DrainService(instrumented, options.drainLeaseMs ?? 60_000, metrics, logger, options.drainClock);
  const origins = originPolicy({ listenHost: '127.0.0.1', allowedOrigins: [], ...options.origins });
  const app = createApp({ store: instrumented, metrics, logger, limits, hub, drains, tokens, origins });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(options.port ?? 0, '127.0.0.1', () => resolve(s));
  });
  const relay = attachWebSocketRelay(server, { hub, metrics, logger, readToken: tokens.read, pingMs: feed.pingMs, origins });
  const guard = guardConnections(server, { ...TEST_CONNECTIONS, ...options.connections, maxBodyBytes: limits.maxBodyBytes, onRefused: (reason) => metrics.httpRefused.inc({ reason }) });
  hub.start();
  const { port } = server.address() as AddressInfo;
  return {
    app,
    server,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/wsapi/changes`,
    store: instrumented,
    metrics,
    hub,
    guard,
    async close() {
      guard.close();
      hub.close();
      await relay.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await onClose();
    },
  };
}

export async function startTestApp(backend: Backend, options: Omit<ServeOptions, 'onClose'> = {}): Promise<TestApp> {
  const t = await openTestStore(backend);
  return serveApp(t.store, { ...options, onClose: t.cleanup });
}

/** The feed and drain of an app built without serving it (the hub is not started: no change is read). */
export function appParts(store: Store, metrics: Metrics): { hub: ChangeHub; drains: DrainService } {
  const logger = createLogger({ logLevel: 'silent' });
  return { hub: new ChangeHub(store, TEST_FEED, metrics, logger), drains: new DrainService(store, 60_000, metrics, logger) };
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
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}
