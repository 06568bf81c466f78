import { ErrorBodySchema, FeedCloseCode, Routes } from 'kpiggybank-client/wire';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { createLogger } from '../src/observability/logger.js';
import { Metrics } from '../src/observability/metrics.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { appParts, serveApp, TEST_LIMITS, type TestApp } from './support/app.js';
import { FeedClient, until } from './support/feed-client.js';
import { logSink } from './support/log-sink.js';

const READ = 'read-token-never-logged';
const WRITE = 'write-token-never-logged';

async function expectUnauthorized(res: request.Response): Promise<void> {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer');
  expect(ErrorBodySchema.parse(res.body).error).toBe('unauthorized');
}

describe('with READ_TOKEN and WRITE_TOKEN set', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await serveApp(new MemoryStore(), { tokens: { read: READ, write: WRITE } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses writes without the write token, and stores nothing', async () => {
    const before = await t.store.count();
    await expectUnauthorized(await request(t.url).post(Routes.blobs).send({ timestamp: 1 }));
    await expectUnauthorized(await request(t.url).post(Routes.blobs).set('Authorization', `Bearer ${READ}`).send({ timestamp: 1 }));
    expect(await t.store.count()).toBe(before);
    await request(t.url).post(Routes.blobs).set('Authorization', `Bearer ${WRITE}`).send({ timestamp: 1 }).expect(201);
    expect(await t.store.count()).toBe(before + 1);
  });

  it('refuses reads without the read token: range, get, count, last, stream', async () => {
    for (const path of [`${Routes.blobs}?start=0`, `${Routes.blobs}?id=x`, Routes.count, Routes.last, Routes.stream]) {
      await expectUnauthorized(await request(t.url).get(path));
      await expectUnauthorized(await request(t.url).get(path).set('Authorization', 'Bearer wrong'));
    }
    await t.store.save([{ _id: 'read-me', timestamp: 2 }]); // its own blob: the write test may not have run before this one
    const stored = await t.store.count();
    expect((await request(t.url).get(Routes.count).set('Authorization', `Bearer ${READ}`).expect(200)).body).toBe(stored);
    expect((await request(t.url).get(`${Routes.count}?token=${READ}`).expect(200)).body).toBe(stored);
    expect((await request(t.url).get(`${Routes.blobs}?id=read-me`).set('Authorization', `Bearer ${READ}`).expect(200)).body.results.timestamp).toBe(2);
    await request(t.url).get(Routes.ping).expect(200);
    await request(t.url).get(Routes.healthz).expect(200);
  });

  it('closes a WebSocket without the read token with 4401, and serves one with it (header or query)', async () => {
    for (const query of [{}, { token: 'wrong' }] as Record<string, string>[]) {
      const refused = await FeedClient.connect(t.wsUrl, query);
      expect((await refused.closed).code).toBe(FeedCloseCode.unauthorized);
    }
    const byQuery = await FeedClient.connect(t.wsUrl, { token: READ });
    const byHeader = await FeedClient.connect(t.wsUrl, {}, { headers: { Authorization: `Bearer ${READ}` } });
    await until(() => byQuery.isLive && byHeader.isLive, 5000, 'live');
    await Promise.all([byQuery.close(), byHeader.close()]);
  });
});

describe('tokens in logs', () => {
  it('never appear: the token query parameter is redacted and headers are not logged', async () => {
    const { sink, text } = logSink();
    const store = new MemoryStore();
    const metrics = new Metrics();
    const app = createApp({ store, metrics, logger: createLogger({ logLevel: 'trace' }, sink), limits: TEST_LIMITS, ...appParts(store, metrics), tokens: { read: READ } });
    await request(app).get(`${Routes.count}?token=${READ}`).expect(200);
    await request(app).get(`${Routes.count}?token=wrong-guess`).expect(401);
    await request(app).get(Routes.count).set('Authorization', `Bearer ${READ}`).expect(200);
    const log = text();
    expect(log).toContain('token=[redacted]');
    expect(log).not.toContain(READ);
    expect(log).not.toContain('wrong-guess');
  });
});
