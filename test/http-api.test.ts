import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBodySchema, GetResponseSchema, IngestResponseSchema, RangeResponseSchema, RowsResponseSchema } from 'kpiggybank-client/wire';
import { BACKENDS } from './support/stores.js';
import { pool, startTestApp, type TestApp } from './support/app.js';

describe.each(BACKENDS)('HTTP API on the %s backend', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  const count = async () => (await request(t.url).get('/wsapi/interaction_data/count').expect(200)).body as number;

  it("passes the seed's end-to-end scenario: 101 legacy form posts, count, closed and open ranges", async () => {
    const S = 1_000_000;
    const before = await count();
    // fire-and-forget, the way the seed's client posted: form-encoded data=<JSON>
    const posts = Array.from({ length: 101 }, (_, i) =>
      request(t.url)
        .post('/wsapi/interaction_data')
        .type('form')
        .send({ data: JSON.stringify({ timestamp: S + i, event_stream: [['screen.rp_info', 0]], lang: 'en' }) })
        .then((r) => r.status),
    );
    await expect.poll(count, { timeout: 5000, interval: 50 }).toBe(before + 101);
    expect(new Set(await Promise.all(posts))).toEqual(new Set([201]));

    // read as the original's production backend answered: CouchDB view rows {key, id, value}
    const closed = await request(t.url)
      .get(`/wsapi/interaction_data?start=${S}&end=${S + 9}`)
      .expect(200)
      .expect('content-type', /json/);
    const rows = RowsResponseSchema.parse(closed.body);
    expect(rows.map((row) => row.key)).toEqual(Array.from({ length: 10 }, (_, i) => S + i));
    for (const row of rows)
      expect(row).toEqual({ key: row.value.timestamp, id: row.value._id, value: { _id: row.id, timestamp: row.key, event_stream: [['screen.rp_info', 0]], lang: 'en' } });
    const open = RowsResponseSchema.parse(
      (
        await request(t.url)
          .get(`/wsapi/interaction_data?start=${S + 91}`)
          .expect(200)
      ).body,
    ).map((row) => row.key);
    // open-ended: the other tests' later blobs follow these, if they ran first
    expect(open.filter((key) => key <= S + 100)).toEqual(Array.from({ length: 10 }, (_, i) => S + 91 + i));
    expect(open.every((key) => key >= S + 91)).toBe(true);
    // the blobs themselves, as the typed client asks for them
    const blobs = await request(t.url)
      .get(`/wsapi/interaction_data?start=${S}&end=${S + 9}&shape=blobs`)
      .expect(200);
    expect(RangeResponseSchema.parse(blobs.body)).toEqual(rows.map((row) => row.value));
    const bad = await request(t.url).get(`/wsapi/interaction_data?shape=docs`).expect(400);
    expect(ErrorBodySchema.parse(bad.body)).toMatchObject({ error: 'invalid_query', reason: expect.stringMatching(/shape must be rows or blobs/) });
  });

  it('stores a JSON blob or batch and answers 201 with the ids, only after storing', async () => {
    const one = await request(t.url).post('/wsapi/interaction_data').send({ timestamp: 2_000_000, kind: 'single' }).expect(201);
    const { ids } = IngestResponseSchema.parse(one.body);
    const fetched = await request(t.url).get('/wsapi/interaction_data').query({ id: ids[0] }).expect(200);
    expect(GetResponseSchema.parse(fetched.body).results).toEqual({ _id: ids[0], timestamp: 2_000_000, kind: 'single' });

    const batch = await request(t.url)
      .post('/wsapi/interaction_data')
      .send([{ timestamp: 2_000_001 }, { timestamp: 2_000_002, _id: 'chosen-id' }])
      .expect(201);
    expect(IngestResponseSchema.parse(batch.body).ids[1]).toBe('chosen-id');
    expect((await request(t.url).get('/wsapi/interaction_data?id=chosen-id').expect(200)).body.results.timestamp).toBe(2_000_002);
  });

  it('answers a retry of the same _id with 201 and does not store a second copy', async () => {
    const before = await count();
    const blob = { _id: 'idempotent-1', timestamp: 3_000_000 };
    expect((await request(t.url).post('/wsapi/interaction_data').send(blob).expect(201)).body).toEqual({ ok: true, ids: ['idempotent-1'], existing: [] });
    const retry = await request(t.url)
      .post('/wsapi/interaction_data')
      .type('form')
      .send({ data: JSON.stringify(blob) })
      .expect(201);
    expect(retry.body).toEqual({ ok: true, ids: ['idempotent-1'], existing: ['idempotent-1'] });
    expect(await count()).toBe(before + 1);
  });

  it('answers 404 JSON for an unknown id, and never serves the design document', async () => {
    for (const id of ['does-not-exist', '_design/kpiggybank']) {
      const res = await request(t.url).get('/wsapi/interaction_data').query({ id }).expect(404);
      expect(ErrorBodySchema.parse(res.body).error).toBe('not_found');
    }
  });

  it('serves last, ping, healthz, readyz and metrics', async () => {
    await request(t.url).post('/wsapi/interaction_data').send({ timestamp: 9_999_999_999, mark: 'newest' }).expect(201);
    const last = (await request(t.url).get('/wsapi/interaction_data/last').expect(200)).body;
    expect(last).toMatchObject({ key: 9_999_999_999, id: last.value._id, value: { mark: 'newest' } });
    expect((await request(t.url).get('/wsapi/interaction_data/last?shape=blobs').expect(200)).body).toEqual(last.value);
    expect((await request(t.url).get('/wsapi/ping').expect(200)).text).toBe('pong');
    await request(t.url).get('/healthz').expect(200, { status: 'ok' });
    expect((await request(t.url).get('/readyz').expect(200)).body).toMatchObject({ status: 'ready', backend, feed: { state: 'following' } });
    const metrics = (
      await request(t.url)
        .get('/metrics')
        .expect(200)
        .expect('content-type', /text\/plain/)
    ).text;
    expect(metrics).toMatch(/kpiggybank_http_request_duration_seconds_count\{method="POST",route="\/wsapi\/interaction_data",status="201"\} \d+/);
    expect(metrics).toMatch(/kpiggybank_blobs_accepted_total [1-9]\d*/);
    expect(metrics).toMatch(new RegExp(`kpiggybank_store_operation_duration_seconds_count\\{backend="${backend}",operation="save",outcome="ok"\\} [1-9]`));
    expect(metrics).toContain('process_cpu_user_seconds_total');
  });

  it('streams a range larger than a page, in order, honouring limit and descending', async () => {
    const base = 5_000_000;
    const total = 2500;
    for (let i = 0; i < total; i += 500) {
      const batch = Array.from({ length: 500 }, (_, j) => ({ timestamp: base + i + j, i: i + j }));
      await request(t.url).post('/wsapi/interaction_data').send(batch).expect(201);
    }
    const all = RangeResponseSchema.parse(
      (
        await request(t.url)
          .get(`/wsapi/interaction_data?start=${base}&end=${base + total}&shape=blobs`)
          .expect(200)
      ).body,
    );
    expect(all.map((b) => b.i)).toEqual(Array.from({ length: total }, (_, i) => i));
    const tail = await request(t.url)
      .get(`/wsapi/interaction_data?start=${base}&end=${base + total}&descending=true&limit=1500`)
      .expect(200);
    expect(RowsResponseSchema.parse(tail.body).map((row) => row.value.i)).toEqual(Array.from({ length: 1500 }, (_, i) => total - 1 - i));
  });

  it('counts exactly after 2,000 concurrent POSTs with 64 in flight', async () => {
    const before = await count();
    const statuses = await pool(2000, 64, async (i) => {
      const res = await fetch(`${t.url}/wsapi/interaction_data`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ timestamp: 7_000_000 + i, payload: 'x'.repeat(400) }),
      });
      return { status: res.status, id: IngestResponseSchema.parse(await res.json()).ids[0] };
    });
    expect(statuses.every((s) => s.status === 201)).toBe(true);
    expect(new Set(statuses.map((s) => s.id)).size).toBe(2000);
    expect(await count()).toBe(before + 2000);
  });
});
