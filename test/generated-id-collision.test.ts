import request from 'supertest';
import { Routes } from 'kpiggybank-client/wire';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';

// A generated id ends in 48 random bits, so no client can choose one before it is made (ids.test.ts).
// Where a store can check for a taken id at no cost it does anyway: this forces the collision that
// cannot be produced otherwise, by making the generator hand out an id a client already chose.
const forced = vi.hoisted(() => ({ ids: [] as string[] }));
vi.mock('../src/store/ids.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/store/ids.js')>();
  const newBlobId = () => forced.ids.shift() ?? real.newBlobId();
  return {
    newBlobId,
    withIds: <B extends { _id?: string | undefined }>(blobs: readonly B[]) => blobs.map((blob) => (blob._id ? blob : { _id: newBlobId(), ...blob })),
  };
});

const PATH = Routes.blobs;

// The leveldb store checks only chosen ids (a check of every generated one would add an index read
// per blob to each write); it relies on the random part alone.
describe.each(['memory', 'couchdb'] as const)('a generated id that a client chose first, on the %s backend', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  it('is replaced by a new one: both blobs are stored, each under its own id', async () => {
    const taken = `0000000000000000000000${backend}`.slice(-32);
    await request(t.url).post(PATH).send({ timestamp: 1, _id: taken, who: 'client' }).expect(201);
    forced.ids.push(taken);
    const res = await request(t.url)
      .post(PATH)
      .send([{ timestamp: 2, who: 'generated' }, { timestamp: 3 }])
      .expect(201);
    expect(res.body.existing).toEqual([]);
    const [made] = res.body.ids as string[];
    expect(made).not.toBe(taken);
    expect((await request(t.url).get(PATH).query({ id: made }).expect(200)).body.results.who).toBe('generated');
    expect((await request(t.url).get(PATH).query({ id: taken }).expect(200)).body.results.who).toBe('client');
    expect((await request(t.url).get(`${PATH}/count`).expect(200)).body).toBe(3);
  });
});
