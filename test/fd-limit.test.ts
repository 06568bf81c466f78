import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Routes } from 'kpiggybank-client/wire';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { defaultMaxConnections, openFilesLimit } from '../src/fd-limit.js';
import { RawClient, rawRequest } from './support/raw-http.js';
import { spawnServer } from './support/server-process.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

describe('the open-file limit', () => {
  it('is read from /proc/self/limits: the soft limit, unlimited as Infinity, unreadable as undefined', () => {
    expect(openFilesLimit(() => LIMITS)).toBe(1024);
    expect(openFilesLimit(() => LIMITS.replace(/1024 {17}524288/, 'unlimited            unlimited'))).toBe(Infinity);
    expect(openFilesLimit(() => 'nothing here')).toBeUndefined();
    expect(
      openFilesLimit(() => {
        throw new Error('ENOENT');
      }),
    ).toBeUndefined();
    expect(openFilesLimit()).toBeGreaterThan(0); // this machine's, Linux
  });

  it('leaves a quarter of the descriptors (at least 256) to the store and the process: the default MAX_CONNECTIONS', () => {
    expect(defaultMaxConnections(1024)).toBe(768);
    expect(defaultMaxConnections(4096)).toBe(3072);
    expect(defaultMaxConnections(256)).toBe(64); // never below 64
    expect(defaultMaxConnections(undefined)).toBe(768); // not Linux: 1024 assumed
    expect(defaultMaxConnections(Infinity)).toBe(786_432);
  });

  it('gives the connection settings their defaults, or the values set', () => {
    expect(loadConfig({}).connections).toEqual({
      maxConnections: defaultMaxConnections(openFilesLimit()),
      bodyTimeoutMs: 20_000,
      maxInflightBodyBytes: 64 * 1024 * 1024,
      responseIdleTimeoutMs: 30_000,
    });
    expect(loadConfig({ MAX_CONNECTIONS: '10', BODY_TIMEOUT_MS: '500', MAX_INFLIGHT_BODY_BYTES: '1000', RESPONSE_IDLE_TIMEOUT_MS: '700' }).connections).toEqual({
      maxConnections: 10,
      bodyTimeoutMs: 500,
      maxInflightBodyBytes: 1000,
      responseIdleTimeoutMs: 700,
    });
    expect(() => loadConfig({ MAX_CONNECTIONS: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ BODY_TIMEOUT_MS: 'soon' })).toThrow(/BODY_TIMEOUT_MS must be/);
  });
});

describe('under ulimit -n 256, 300 idle connections', () => {
  it('are capped below the limit (the rest closed at once), and the store keeps its descriptors: every write is stored', { timeout: 60_000 }, async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-fd-'));
    const server = await spawnServer({ DATA_DIR: dataDir, MODE: 'prod', LOG_LEVEL: 'info' }, { openFiles: 256 });
    const clients: RawClient[] = [];
    try {
      const url = await server.ready;
      expect(server.output()).toContain('"maxConnections":64');
      const worker = await RawClient.connect(url);
      for (let i = 0; i < 300; i++) clients.push(await RawClient.connect(url));
      await new Promise((resolve) => setTimeout(resolve, 500));
      const open = clients.filter((client) => !client.socket.destroyed).length;
      expect(open).toBeLessThanOrEqual(79); // 80 with the worker: 64, and 16 more that are answered 503 (Node closes the rest at once)
      expect(open).toBeGreaterThan(40);

      // one more, while at the cap: closed at once, unanswered
      const extra = await RawClient.connect(url);
      extra.write(rawRequest('GET', Routes.count));
      expect(await extra.closedWithin(2000)).toBe(true);
      expect(extra.responses).toEqual([]);

      // 8 MB: LevelDB rolls its log and writes tables, opening files (without the cap, 97 of these 200 failed: "Too many open files")
      const pad = 'p'.repeat(40_000);
      for (let i = 0; i < 200; i++) {
        worker.write(rawRequest('POST', Routes.blobs, { 'Content-Type': 'application/json' }, JSON.stringify({ timestamp: i, pad })));
        await worker.waitFor(i + 1, 10_000);
      }
      expect(worker.responses.filter((r) => r.status !== 201).map((r) => `${r.status} ${r.body}`)).toEqual([]);
      worker.write(rawRequest('GET', Routes.count));
      expect((await worker.waitFor(201))[200]).toMatchObject({ status: 200, body: '200' });
      worker.destroy();
    } finally {
      for (const client of clients) client.destroy();
      server.child.kill('SIGTERM');
      await server.exited;
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
