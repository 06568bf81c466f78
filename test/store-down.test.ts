import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBodySchema, Routes } from 'kpiggybank-client/wire';
import { loadConfig } from '../src/config.js';
import { CouchDbStore } from '../src/store/couchdb/couchdb-store.js';
import { serveApp, type TestApp } from './support/app.js';
import { startPouchDbServer, type RunningCouch } from '../harness/pouchdb-server.js';
import { freePort } from '../src/loadtest/free-port.js';

async function expectUnavailable(res: request.Response): Promise<void> {
  expect(res.status).toBe(503);
  expect(res.headers['retry-after']).toBe('5');
  expect(ErrorBodySchema.parse(res.body).error).toBe('store_unavailable');
}

describe('a CouchDB store that is down', () => {
  let port: number;
  let t: TestApp;
  let couch: RunningCouch | undefined;

  beforeAll(async () => {
    port = await freePort();
    const connection = loadConfig({ COUCHDB_URL: `http://127.0.0.1:${port}` }).couch;
    const store = new CouchDbStore({ connection, dbName: 'kpiggybank_down_test', groupCommit: { maxItems: 100, concurrency: 2 }, timeoutMs: 2000 });
    await expect(store.open()).rejects.toThrow(/unavailable/);
    t = await serveApp(store);
  });
  afterAll(async () => {
    await t.close();
    await couch?.stop();
  });

  it('answers 503 with Retry-After, never 201, and the server stays up', async () => {
    await expectUnavailable(await request(t.url).post(Routes.blobs).send({ timestamp: 1 }));
    await expectUnavailable(await request(t.url).post(Routes.blobs).type('form').send({ data: '{"timestamp":1}' }));
    await expectUnavailable(await request(t.url).get(Routes.count));
    await expectUnavailable(await request(t.url).get(`${Routes.blobs}?start=1`));
    await expectUnavailable(await request(t.url).get(Routes.last));
    await expectUnavailable(await request(t.url).get(Routes.readyz));
    await request(t.url).get(Routes.healthz).expect(200);
  });

  it('sets the database up and serves once CouchDB comes up, and 503s again when it goes', async () => {
    couch = await startPouchDbServer(port);
    // ready once the store answers and the change feed follows it again (its retry backs off up to 5 s)
    await expect.poll(async () => (await request(t.url).get(Routes.readyz)).status, { timeout: 10_000, interval: 200 }).toBe(200);
    await request(t.url).post(Routes.blobs).send({ timestamp: 1 }).expect(201);
    expect((await request(t.url).get(Routes.count).expect(200)).body).toBe(1);

    await couch.stop();
    couch = undefined;
    await expectUnavailable(await request(t.url).post(Routes.blobs).send({ timestamp: 2 }));
    await expectUnavailable(await request(t.url).get(Routes.readyz));

    const metrics = (await request(t.url).get(Routes.metrics)).text;
    expect(metrics).toMatch(/kpiggybank_blobs_rejected_total\{reason="store_unavailable"\} [1-9]/);
    expect(metrics).toMatch(/kpiggybank_store_operation_duration_seconds_count\{backend="couchdb",operation="save",outcome="error"\} [1-9]/);
  });
});
