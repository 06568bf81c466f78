import request from 'supertest';
import { Routes } from 'kpiggybank-client/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/observability/logger.js';
import { DummyStore } from '../src/store/dummy/dummy-store.js';
import { serveApp, type TestApp } from './support/app.js';

describe('HTTP API on the dummy backend', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await serveApp(new DummyStore(createLogger({ logLevel: 'silent' })));
  });
  afterAll(async () => {
    await t.close();
  });

  it('accepts blobs without storing them and serves its canned blobs on every read route', async () => {
    const posted = await request(t.url)
      .post(Routes.blobs)
      .send([{ timestamp: 1 }, { timestamp: 2, _id: 'mine' }])
      .expect(201);
    expect(posted.body.ids).toHaveLength(2);
    expect(posted.body.ids[1]).toBe('mine');
    expect((await request(t.url).get(Routes.count).expect(200)).body).toBe(3);
    const all = (await request(t.url).get(`${Routes.blobs}?shape=blobs`).expect(200)).body as { _id: string; timestamp: number }[];
    expect(all.map((b) => b._id)).toEqual(['dummy-1', 'dummy-2', 'dummy-3']);
    expect((await request(t.url).get(`${Routes.blobs}?start=${all[1]!.timestamp}`).expect(200)).body).toHaveLength(2);
    expect((await request(t.url).get(`${Routes.blobs}?limit=1&descending=true`).expect(200)).body[0].id).toBe('dummy-3');
    expect((await request(t.url).get(`${Routes.blobs}?id=dummy-2`).expect(200)).body.results._id).toBe('dummy-2');
    await request(t.url).get(`${Routes.blobs}?id=mine`).expect(404);
    expect((await request(t.url).get(Routes.last).expect(200)).body.value._id).toBe('dummy-3');
  });
});
