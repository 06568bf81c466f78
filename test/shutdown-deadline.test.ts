import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Routes } from 'kpiggybank-client/wire';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnServer } from './support/server-process.js';
import { couchConnection, dropCouchDb, uniqueDbName } from './support/stores.js';

const SHUTDOWN_TIMEOUT_MS = 500;
/** server.ts's margin for closing the store after the connections are cut. */
const MARGIN_MS = 5000;

/** A TCP relay to the test CouchDB that can start swallowing every byte: a store that stops answering, mid-request. */
async function relay(target: URL): Promise<{ url: string; swallow(): void; close(): Promise<void> }> {
  let swallowing = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.on('data', (chunk: Uint8Array) => swallowing || upstream.write(chunk));
    upstream.on('data', (chunk: Uint8Array) => swallowing || client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => swallowing || client.destroy()); // CouchDB drops idle connections after 5 s: the store must not hear of it
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = new URL(target);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString().replace(/\/$/, ''),
    swallow: () => (swallowing = true),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('shutdown with a store that never answers', () => {
  const dbName = uniqueDbName();
  let couch: Awaited<ReturnType<typeof relay>>;
  beforeAll(async () => {
    couch = await relay(new URL(inject('couchUrl')));
  });
  afterAll(async () => {
    await couch.close();
    await dropCouchDb(couchConnection(), dbName);
  });

  it('exits by SHUTDOWN_TIMEOUT_MS plus the margin, not when the store finally gives up', async () => {
    // The store's own timeout is far beyond the shutdown's: only the shutdown's deadline can end it.
    const server = await spawnServer({
      DB_BACKEND: 'couchdb',
      COUCHDB_URL: couch.url,
      DB_NAME: dbName,
      STORE_TIMEOUT_MS: '120000',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      LOG_LEVEL: 'info',
    });
    const url = await server.ready;
    try {
      couch.swallow();
      const post = fetch(`${url}${Routes.blobs}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"timestamp":1}' }).then(
        (res) => res.status,
        () => 'cut',
      );
      await new Promise((r) => setTimeout(r, 300));

      const started = Date.now();
      server.child.kill('SIGTERM');
      const outcome = await Promise.race([server.exited.then(() => 'exited'), new Promise((r) => setTimeout(() => r('still running'), SHUTDOWN_TIMEOUT_MS + MARGIN_MS + 4000))]);
      const elapsed = Date.now() - started;
      expect(outcome).toBe('exited');
      expect(elapsed).toBeGreaterThanOrEqual(SHUTDOWN_TIMEOUT_MS + MARGIN_MS - 100); // it gave the store its margin first
      expect(server.child.exitCode).toBe(1);
      expect(server.output()).toContain('still not stopped');
      // the POST was never acknowledged: it was cut, or refused, never a 201
      const answer = await post;
      expect(answer).not.toBe(201);
      console.log(`shutdown-deadline test: exited ${elapsed} ms after SIGTERM; the POST: ${answer}`);
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    }
  }, 20_000);
});
