import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { createApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { Metrics } from '../../src/metrics.js';
import { InstrumentedStore } from '../../src/store/instrumented.js';
import type { Store } from '../../src/store/store.js';
import { openTestStore, type Backend } from './stores.js';

export const TEST_LIMITS: Config['limits'] = { maxBodyBytes: 1024 * 1024, maxBatchBlobs: 10_000, maxDepth: 32 };

export interface TestApp {
  app: Express;
  server: Server;
  url: string;
  store: Store;
  metrics: Metrics;
  close(): Promise<void>;
}

/** The real app on a real port, over the given store, logging nothing. */
export async function serveApp(store: Store, limits: Config['limits'] = TEST_LIMITS, onClose = async () => {}): Promise<TestApp> {
  const metrics = new Metrics();
  const instrumented = new InstrumentedStore(store, metrics);
  const app = createApp({ store: instrumented, metrics, logger: createLogger({ logLevel: 'silent' }), limits });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    app,
    server,
    url: `http://127.0.0.1:${port}`,
    store: instrumented,
    metrics,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await onClose();
    },
  };
}

export async function startTestApp(backend: Backend, limits?: Config['limits']): Promise<TestApp> {
  const t = await openTestStore(backend);
  return serveApp(t.store, limits, t.cleanup);
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
