import { ErrorBodySchema, IngestResponseSchema, Routes } from 'kpiggybank-client/wire';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { BACKENDS } from './support/stores.js';

const PATH = Routes.blobs;

describe.each(BACKENDS)('blob ids and field names on the %s backend', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  const postJson = (text: string) => request(t.url).post(PATH).set('content-type', 'application/json').send(text);
  const count = async () => (await request(t.url).get(`${PATH}/count`).expect(200)).body as number;
  const get = (id: string) => request(t.url).get(PATH).query({ id });

  it('refuses an _id with a lone surrogate, and stores the well-formed id it used to be mistaken for', async () => {
    const before = await count();
    for (const escaped of ['sur\\ud800', 'sur\\udbff', 'x\\udc00y']) {
      const res = await postJson(`{"timestamp":1,"_id":"${escaped}"}`);
      expect(res.status, escaped).toBe(400);
      expect(ErrorBodySchema.parse(res.body)).toMatchObject({ error: 'invalid_blob', reason: expect.stringMatching(/well-formed Unicode/) });
    }
    // a lone surrogate in a batch rejects the batch: nothing of it is stored
    const batch = await postJson('[{"timestamp":1,"_id":"fine-1"},{"timestamp":1,"_id":"sur\\udbff"}]');
    expect(batch.status).toBe(400);
    expect(batch.body.index).toBe(1);
    expect(await count()).toBe(before);

    const res = await postJson('{"timestamp":1,"_id":"sur\\ufffd","n":1}').expect(201);
    expect(IngestResponseSchema.parse(res.body)).toMatchObject({ ids: ['sur\ufffd'], existing: [] });
    expect((await get('sur\ufffd').expect(200)).body.results).toEqual({ _id: 'sur\ufffd', timestamp: 1, n: 1 });
    // a pair is well-formed: an astral character is an id like any other
    expect((await postJson('{"timestamp":1,"_id":"sur\\ud83d\\ude00"}').expect(201)).body.existing).toEqual([]);
    expect((await get('sur\u{1F600}').expect(200)).body.results._id).toBe('sur\u{1F600}');
    expect(await count()).toBe(before + 2);
  });

  it('compares ids exactly as stored: two spellings of é are two blobs', async () => {
    const before = await count();
    const composed = 'caf\u00e9';
    const decomposed = 'cafe\u0301';
    for (const [id, n] of [
      [composed, 1],
      [decomposed, 2],
    ] as const) {
      expect((await request(t.url).post(PATH).send({ timestamp: 5, _id: id, n }).expect(201)).body.existing).toEqual([]);
    }
    expect((await get(composed).expect(200)).body.results.n).toBe(1);
    expect((await get(decomposed).expect(200)).body.results.n).toBe(2);
    expect(await count()).toBe(before + 2);
  });

  it('refuses a field named __proto__ at any depth, and keeps other names JavaScript treats specially', async () => {
    const before = await count();
    const top = await postJson('{"timestamp":1,"__proto__":{"x":1}}');
    expect(top.status).toBe(400);
    expect(ErrorBodySchema.parse(top.body)).toMatchObject({ error: 'invalid_blob', reason: expect.stringMatching(/__proto__/) });
    const nested = await postJson('[{"timestamp":1},{"timestamp":1,"ua":{"list":[{"__proto__":"v"}]}}]');
    expect(nested.status).toBe(400);
    expect(ErrorBodySchema.parse(nested.body)).toMatchObject({ error: 'invalid_blob', index: 1, reason: expect.stringContaining('ua.list.0.__proto__') });
    const form = await request(t.url).post(PATH).type('form').send({ data: '{"timestamp":1,"a":{"__proto__":1}}' });
    expect(form.status).toBe(400);
    expect(await count()).toBe(before);

    const odd = { timestamp: 2, constructor: 'c', prototype: { toString: 1, hasOwnProperty: 2, constructor: { prototype: 3 }, __proto__x: 4 } };
    const res = await postJson(JSON.stringify(odd)).expect(201);
    const id = IngestResponseSchema.parse(res.body).ids[0]!;
    expect((await get(id).expect(200)).body.results).toEqual({ _id: id, ...odd });
  });
});
