import { IngestResponseSchema, ErrorBodySchema } from 'kpiggybank-client/wire';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { BACKENDS } from './support/stores.js';

// The programs that produced and consumed this data in 2012–2013, as they used the service:
// Persona posted form-encoded data=<JSON> (since October 2013 sometimes with a browser's whole
// array queued as one entry); kpi-dashboard's importer and Persona's performance helper read the
// original's CouchDB view rows. These tests do what those programs did with the answers.

const PATH = '/wsapi/interaction_data';
const DAY = 1_380_000_000_000; // ms, as Persona stamped its blobs

/** A sign-in's KPI data as Persona sent it. */
const signIn = (n: number) => ({
  timestamp: DAY + n * 1000,
  lang: 'en-US',
  screen_size: { width: 1280, height: 800 },
  user_agent: { os: 'Macintosh', browser: 'Firefox', version: '24.0' },
  event_stream: [
    ['screen.rp_info', 0],
    ['window.user_interaction', 1200],
    ['assertion_generated', 3400 + n],
  ],
  number_emails: 1,
  ready_time_ms: 500 + n,
  n,
});

describe.each(BACKENDS)("the original's real clients against the %s backend", (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });
  const count = async () => (await request(t.url).get(`${PATH}/count`).expect(200)).body as number;

  it("stores Persona's mixed batch of 20 (arrays queued whole inside the array), every blob, in order", async () => {
    const blobs = Array.from({ length: 20 }, (_, n) => signIn(n));
    const mixed = [...blobs.slice(0, 5), blobs.slice(5, 9), ...blobs.slice(9, 14), blobs.slice(14, 15), ...blobs.slice(15, 17), blobs.slice(17, 20)];
    const res = await request(t.url)
      .post(PATH)
      .type('form')
      .send({ data: JSON.stringify(mixed) })
      .expect(201);
    const { ids } = IngestResponseSchema.parse(res.body);
    expect(ids).toHaveLength(20);
    for (const [n, id] of ids.entries()) expect((await request(t.url).get(PATH).query({ id }).expect(200)).body.results.n).toBe(n);
    expect(await count()).toBe(20);
  });

  it('refuses arrays nested deeper than Persona sent them, or a bad blob inside one, naming its index, storing none', async () => {
    const deeper = await request(t.url)
      .post(PATH)
      .type('form')
      .send({ data: JSON.stringify([signIn(0), [signIn(1), [signIn(2)]]]) })
      .expect(400);
    expect(ErrorBodySchema.parse(deeper.body)).toMatchObject({ error: 'too_deep', index: 1, reason: expect.stringMatching(/blob 1\.1 is an array/) });
    const bad = await request(t.url)
      .post(PATH)
      .send([signIn(0), [signIn(1), { lang: 'en' }]])
      .expect(400);
    expect(ErrorBodySchema.parse(bad.body)).toMatchObject({ error: 'invalid_blob', index: 1, reason: expect.stringMatching(/blob 1\.1 is invalid: timestamp is required/) });
    const twice = await request(t.url)
      .post(PATH)
      .send([{ ...signIn(0), _id: 'twin' }, [{ ...signIn(1), _id: 'twin' }]])
      .expect(400);
    expect(ErrorBodySchema.parse(twice.body)).toMatchObject({ error: 'duplicate_id', index: 1, reason: expect.stringMatching(/blob 0 and blob 1\.0/) });
    expect(await count()).toBe(20);
  });

  it("feeds kpi-dashboard's importer: GET ?start=<ms>&end=<ms>, each row's value.event_stream, value.timestamp and id", async () => {
    const res = await request(t.url)
      .get(PATH)
      .query({ start: DAY, end: DAY + 9_999 })
      .expect(200);
    // what server/bin/update → db.populateDatabase does with each row
    const imported = (JSON.parse(res.text) as { id: string; value: { timestamp: number; event_stream: [string, number][] } }[]).map((row) => ({
      id: row.id,
      timestamp: row.value.timestamp,
      steps: row.value.event_stream.map(([name]) => name),
      signInMs: row.value.event_stream[row.value.event_stream.length - 1]![1],
    }));
    expect(imported.map((row) => row.timestamp)).toEqual(Array.from({ length: 10 }, (_, n) => DAY + n * 1000));
    expect(imported[3]).toMatchObject({ steps: ['screen.rp_info', 'window.user_interaction', 'assertion_generated'], signInMs: 3403 });
    for (const row of imported) expect((await request(t.url).get(PATH).query({ id: row.id }).expect(200)).body.results.timestamp).toBe(row.timestamp);
  });

  it("answers Persona's performance helper: GET /last, result.value.ready_time_ms of the newest blob", async () => {
    const res = await request(t.url).get(`${PATH}/last`).expect(200);
    const result = JSON.parse(res.text) as { key: number; id: string; value: { ready_time_ms: number } };
    expect(result.value.ready_time_ms).toBe(519);
    expect(result.key).toBe(DAY + 19_000);
  });
});
