import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CouchDbStore } from '../src/store/couchdb/couchdb-store.js';
import { couchConnection, dropCouchDb, uniqueDbName } from './support/stores.js';

/** A pass-through proxy in front of the CouchDB-protocol server that counts `_bulk_docs` requests. */
function countingProxy(target: URL): { server: Server; bulkRequests: () => number } {
  let bulk = 0;
  const server = createServer((req, res) => {
    if (req.url?.includes('/_bulk_docs')) bulk++;
    const upstream = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  return { server, bulkRequests: () => bulk };
}

describe('CouchDB group commit', () => {
  const upstream = new URL(inject('couchUrl'));
  const proxy = countingProxy(upstream);
  const dbName = uniqueDbName();
  let store: CouchDbStore;

  beforeAll(async () => {
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    const via = new URL(upstream);
    via.host = `127.0.0.1:${(proxy.server.address() as AddressInfo).port}`;
    store = new CouchDbStore({ connection: couchConnection(via.toString()), dbName, groupCommit: { maxItems: 500, concurrency: 4 }, timeoutMs: 30_000 });
    await store.open();
  });
  afterAll(async () => {
    await store.close();
    await dropCouchDb(couchConnection(), dbName);
    proxy.server.closeAllConnections();
    await new Promise((resolve) => proxy.server.close(resolve));
  });

  it('coalesces 1,000 concurrent single-blob saves into far fewer _bulk_docs requests, each save answered', async () => {
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => store.save([{ timestamp: i, n: i }])));
    expect(results.every((r) => r.ids.length === 1 && r.existing.length === 0)).toBe(true);
    expect(new Set(results.map((r) => r.ids[0])).size).toBe(1000);
    expect(await store.count()).toBe(1000);
    expect(proxy.bulkRequests()).toBeLessThanOrEqual(100);
    console.log(`group commit: 1000 concurrent saves went out in ${proxy.bulkRequests()} _bulk_docs requests`);
  });
});
