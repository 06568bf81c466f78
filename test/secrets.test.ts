import request from 'supertest';
import { Routes } from 'kpiggybank-client/wire';
import { describe, expect, inject, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/observability/logger.js';
import { Metrics } from '../src/observability/metrics.js';
import { CouchDbStore } from '../src/store/couchdb/couchdb-store.js';
import { InstrumentedStore } from '../src/observability/instrumented-store.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { basicAuth } from '../harness/couchdb.js';
import { appParts, TEST_LIMITS } from './support/app.js';
import { logSink } from './support/log-sink.js';
import { spawnServer } from './support/server-process.js';

const SECRET = 'S3cret-Passw0rd-never-shown';

function wrongCredentialsUrl(): string {
  const url = new URL(inject('couchUrl'));
  url.username = 'intruder';
  url.password = SECRET;
  return url.toString();
}

/** A logger at trace level and every line it wrote. */
function capturingLogger() {
  const { sink, text } = logSink();
  return { text, logger: createLogger({ logLevel: 'trace' }, sink) };
}

describe('the CouchDB password', () => {
  it('appears in no log line, error body or metric when CouchDB refuses it', async () => {
    const { text, logger } = capturingLogger();
    const metrics = new Metrics();
    const connection = loadConfig({ COUCHDB_URL: wrongCredentialsUrl() }).couch;
    const store = new InstrumentedStore(
      new CouchDbStore({ connection, dbName: 'kpiggybank_secret_test', groupCommit: { maxItems: 10, concurrency: 1 }, timeoutMs: 5000 }),
      metrics,
    );
    const app = createApp({ store, metrics, logger, limits: TEST_LIMITS, ...appParts(store, metrics) });

    const post = await request(app).post(Routes.blobs).set('Authorization', `Bearer ${SECRET}`).send({ timestamp: 1 });
    expect(post.status).toBe(500);
    expect(post.body.error).toBe('store_error');
    const ready = await request(app).get(Routes.readyz);
    expect(ready.status).toBe(503);
    const metricsText = (await request(app).get(Routes.metrics)).text;

    const logged = text();
    expect(logged).toContain('check DB_USER/DB_PASS or COUCHDB_URL'); // the operator learns what to fix
    expect(logged).toContain('intruder');
    for (const text of [logged, JSON.stringify(post.body), JSON.stringify(ready.body), metricsText]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(basicAuth('intruder', SECRET).slice('Basic '.length));
    }
  });

  it('is not printed when the service refuses to start on rejected credentials', async () => {
    const server = await spawnServer({ DB_BACKEND: 'couchdb', COUCHDB_URL: wrongCredentialsUrl(), DB_NAME: 'kpiggybank_secret_start' });
    await expect(server.ready).rejects.toThrow(/exited with 1/);
    expect(server.output()).toMatch(/cannot open the store/);
    expect(server.output()).not.toContain(SECRET);
  });

  it('is not printed when the configuration is invalid', async () => {
    const server = await spawnServer({ COUCHDB_URL: `ftp://intruder:${SECRET}@localhost`, PORT: 'eighty' });
    await expect(server.ready).rejects.toThrow(/exited with 2/);
    expect(server.output()).toMatch(/PORT must be an integer port 0–65535 \(HTTP\) \(got "eighty"\)/);
    expect(server.output()).toMatch(/COUCHDB_URL must be an http\(s\) URL/);
    expect(server.output()).not.toContain(SECRET);
  });
});

describe('tokens in query parameters', () => {
  it('are redacted from every log line however their name is escaped, on the fast path and through Express', async () => {
    const tokens = { read: 'R3ad-token-never-shown', write: 'Wr1te-token-never-shown', drain: 'Dra1n-token-never-shown' };
    const { text, logger } = capturingLogger();
    const store = new MemoryStore();
    const metrics = new Metrics();
    const app = createApp({ store, metrics, logger, limits: TEST_LIMITS, ...appParts(store, metrics), tokens });
    const names = ['token', '%74oken', 'TOKEN', 'tok%65n', '%74%6F%6B%65%6E', 'token[]', '%74oken%5B%5D'];
    for (const name of names) {
      await request(app).post(`${Routes.blobs}?${name}=${tokens.write}`).send({ timestamp: 1 });
      await request(app).post(`${Routes.blobs}?a=1&${name}=${tokens.write}`).set('content-encoding', 'identity').set('transfer-encoding', 'chunked').send('{"timestamp":1}');
      await request(app).get(`${Routes.count}?${name}=${tokens.read}&b=2`);
      await request(app).post(`${Routes.drains}?${name}=${tokens.drain}`);
    }
    // the escaped name is a token to Express's query parser: it was accepted, so it had to be redacted
    expect(await store.count()).toBeGreaterThan(0);
    const logged = text();
    expect(logged).toContain('[redacted]');
    expect(logged).toContain('b=2');
    for (const token of Object.values(tokens)) expect(logged).not.toContain(token);
  });
});
