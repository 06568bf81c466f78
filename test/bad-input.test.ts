import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBodySchema, type ErrorCode, Routes } from 'kpiggybank-client/wire';
import { BACKENDS } from './support/stores.js';
import { startTestApp, TEST_LIMITS, type TestApp } from './support/app.js';
import { expectServedBy, type IngestPath } from './support/served-by.js';

interface Case {
  name: string;
  send: (t: TestApp) => request.Test;
  status: number;
  error: ErrorCode;
  index?: number;
  reason?: RegExp;
  /** Which way into ingest a POST takes (none for the reads). */
  path?: IngestPath;
}

const post = (t: TestApp) => request(t.url).post(Routes.blobs);
const json = (t: TestApp, body: string) => post(t).set('content-type', 'application/json').send(body);
const form = (t: TestApp, data: string) => post(t).type('form').send({ data });
const nested = (depth: number) => `${'{"a":'.repeat(depth - 1)}{"timestamp":1}${'}'.repeat(depth - 1)}`;

const CASES: Case[] = [
  { name: 'a form without a data field', path: 'fast', send: (t) => post(t).type('form').send({ other: '1' }), status: 400, error: 'missing_data' },
  { name: 'form data that is not JSON', path: 'fast', send: (t) => form(t, '{"timestamp": 1'), status: 400, error: 'malformed_json' },
  { name: 'a blob that is not an object', path: 'fast', send: (t) => form(t, '"just text"'), status: 400, error: 'invalid_blob', reason: /JSON object/ },
  { name: 'null as a blob', path: 'fast', send: (t) => json(t, 'null'), status: 400, error: 'invalid_blob' },
  { name: 'a missing timestamp', path: 'fast', send: (t) => json(t, '{"lang":"en"}'), status: 400, error: 'invalid_blob', reason: /timestamp is required/ },
  { name: 'a fractional timestamp', path: 'fast', send: (t) => json(t, '{"timestamp":1.5}'), status: 400, error: 'invalid_blob', reason: /integer/ },
  { name: 'a timestamp as a string', path: 'fast', send: (t) => json(t, '{"timestamp":"1338000000"}'), status: 400, error: 'invalid_blob' },
  { name: 'an empty array', path: 'fast', send: (t) => json(t, '[]'), status: 400, error: 'empty_batch' },
  {
    name: 'a batch with one bad blob',
    path: 'fast',
    send: (t) => json(t, '[{"timestamp":1},{"timestamp":2},{"time":3},{"timestamp":4}]'),
    status: 400,
    error: 'invalid_blob',
    index: 2,
    reason: /blob 2/,
  },
  { name: 'malformed JSON', path: 'fast', send: (t) => json(t, '{"timestamp": 1,,}'), status: 400, error: 'malformed_json' },
  { name: 'nesting deeper than the limit', path: 'fast', send: (t) => json(t, nested(TEST_LIMITS.maxDepth + 1)), status: 400, error: 'too_deep' },
  { name: 'nesting 100,000 levels deep', path: 'fast', send: (t) => json(t, '['.repeat(100_000) + ']'.repeat(100_000)), status: 400, error: 'too_deep' },
  {
    name: 'a corrupt gzip body',
    path: 'express',
    send: (t) => post(t).set('content-type', 'application/json').set('content-encoding', 'gzip').send('not gzip at all'),
    status: 400,
    error: 'bad_request',
  },
  {
    name: 'an unsupported charset',
    path: 'express',
    send: (t) => post(t).set('content-type', 'application/json; charset=latin1').send('{}'),
    status: 415,
    error: 'unsupported_media_type',
  },
  {
    name: 'an unsupported content type',
    path: 'express',
    send: (t) => post(t).set('content-type', 'text/plain').send('timestamp=1'),
    status: 415,
    error: 'unsupported_media_type',
  },
  { name: 'no content type and no body', path: 'express', send: (t) => post(t), status: 400, error: 'missing_data' },
  {
    name: 'a body over the limit',
    path: 'fast',
    send: (t) => json(t, JSON.stringify({ timestamp: 1, pad: 'x'.repeat(TEST_LIMITS.maxBodyBytes) })),
    status: 413,
    error: 'too_large',
  },
  { name: 'a reserved _rev field', path: 'fast', send: (t) => json(t, '{"timestamp":1,"_rev":"1-abc"}'), status: 400, error: 'invalid_blob', reason: /_rev/ },
  { name: 'an _id reserved by CouchDB', path: 'fast', send: (t) => json(t, '{"timestamp":1,"_id":"_design/evil"}'), status: 400, error: 'invalid_blob' },
  {
    name: 'the same _id twice in a batch',
    path: 'fast',
    send: (t) => json(t, '[{"timestamp":1,"_id":"twin"},{"timestamp":2,"_id":"twin"}]'),
    status: 400,
    error: 'duplicate_id',
    index: 1,
  },
  {
    name: 'more blobs than a batch may hold',
    path: 'fast',
    send: (t) => json(t, JSON.stringify(Array.from({ length: TEST_LIMITS.maxBatchBlobs + 1 }, () => ({ timestamp: 1 })))),
    status: 413,
    error: 'batch_too_large',
  },
  { name: 'a non-numeric range bound', send: (t) => request(t.url).get(`${Routes.blobs}?start=yesterday`), status: 400, error: 'invalid_query', reason: /start/ },
  { name: 'a fractional range bound', send: (t) => request(t.url).get(`${Routes.blobs}?end=1.5`), status: 400, error: 'invalid_query', reason: /end/ },
  { name: 'a zero limit', send: (t) => request(t.url).get(`${Routes.blobs}?limit=0`), status: 400, error: 'invalid_query', reason: /limit/ },
  { name: 'an unknown route', send: (t) => request(t.url).get('/wsapi/nothing-here'), status: 404, error: 'not_found' },
];

describe.each(BACKENDS)('bad input on the %s backend', (backend) => {
  let t: TestApp;
  let keptId: string;
  beforeAll(async () => {
    t = await startTestApp(backend);
    keptId = (await post(t).send({ timestamp: 42, accepted: 'before the bad input' }).expect(201)).body.ids[0];
  });
  afterAll(async () => {
    await t.close();
  });

  it.each(CASES)('rejects $name with $status and stores nothing', async (c) => {
    const res = await expectServedBy(t.metrics, c.path, () => c.send(t));
    expect(res.status).toBe(c.status);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    const body = ErrorBodySchema.parse(res.body);
    expect(body.error).toBe(c.error);
    expect(body.reason.length).toBeGreaterThan(10);
    if (c.index !== undefined) expect(body.index).toBe(c.index);
    if (c.reason) expect(body.reason).toMatch(c.reason);
    // nothing stored, nothing lost, still alive
    expect((await request(t.url).get(Routes.count).expect(200)).body).toBe(1);
    expect((await request(t.url).get(`${Routes.blobs}?id=${keptId}`).expect(200)).body.results.accepted).toBe('before the bad input');
  });

  it('counts rejected blobs by reason in the metrics', async () => {
    // Its own bad input, counted as a difference: the cases above may have run before it, or not.
    const rejected = async () => {
      const values = (await t.metrics.blobsRejected.get()).values;
      const of = (reason: string) => values.find((v) => v.labels.reason === reason)?.value ?? 0;
      return { invalid: of('invalid_blob'), tooLarge: of('too_large') };
    };
    const before = await rejected();
    await json(t, '[{"timestamp":1},{"time":2},{"timestamp":3}]').expect(400);
    await json(t, JSON.stringify({ timestamp: 1, pad: 'x'.repeat(TEST_LIMITS.maxBodyBytes) })).expect(413);
    const after = await rejected();
    expect({ invalid: after.invalid - before.invalid, tooLarge: after.tooLarge - before.tooLarge }).toEqual({ invalid: 3, tooLarge: 1 });
    const metrics = (await request(t.url).get(Routes.metrics).expect(200)).text;
    expect(metrics).toMatch(/kpiggybank_blobs_rejected_total\{reason="invalid_blob"\} [1-9]/);
  });
});
