import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { ErrorBodySchema, IngestResponseSchema, Routes } from 'kpiggybank-client/wire';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/observability/logger.js';
import { Metrics } from '../src/observability/metrics.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { appParts, serveApp, TEST_LIMITS, type TestApp } from './support/app.js';
import { logSink, type LogRecord } from './support/log-sink.js';
import { expectServedBy, servedBy, type IngestPath } from './support/served-by.js';

// Common POSTs are served before Express (src/http/ingest-fast-path.ts), the rest by the Express
// route: both must answer alike, log alike and count alike.

const PATH = Routes.blobs;

/** A raw POST, so that headers (chunked, Content-Length) are exactly what the case says. */
function rawPost(
  url: string,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array | string,
  chunked = false,
): Promise<{ status: number; headers: Record<string, unknown>; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    if (chunked) {
      req.write(body);
      req.end();
    } else {
      req.end(body);
    }
  });
}

describe('the ingest fast path and the Express route', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await serveApp(new MemoryStore());
  });
  afterAll(async () => {
    await t.close();
  });

  const blob = (n: number) => JSON.stringify({ timestamp: 1_400_000_000 + n, lang: 'en-US', n });
  const cases: { name: string; path: IngestPath; send: (n: number) => ReturnType<typeof rawPost> }[] = [
    { name: 'JSON', path: 'fast', send: (n) => rawPost(t.url, PATH, { 'content-type': 'application/json' }, blob(n)) },
    { name: 'a JSON batch', path: 'fast', send: (n) => rawPost(t.url, PATH, { 'content-type': 'application/json' }, `[${blob(n)},${blob(n + 1000)}]`) },
    { name: 'JSON; charset=utf-8', path: 'fast', send: (n) => rawPost(t.url, PATH, { 'content-type': 'application/json; charset=UTF-8' }, blob(n)) },
    { name: 'a legacy form', path: 'fast', send: (n) => rawPost(t.url, PATH, { 'content-type': 'application/x-www-form-urlencoded' }, `data=${encodeURIComponent(blob(n))}`) },
    {
      name: 'a legacy form with a batch',
      path: 'fast',
      send: (n) => rawPost(t.url, PATH, { 'content-type': 'application/x-www-form-urlencoded' }, `data=${encodeURIComponent(`[${blob(n)},${blob(n + 1000)}]`)}`),
    },
    {
      name: 'gzip JSON',
      path: 'express',
      send: (n) => rawPost(t.url, PATH, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, new Uint8Array(gzipSync(blob(n)))),
    },
    { name: 'chunked JSON', path: 'express', send: (n) => rawPost(t.url, PATH, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, blob(n), true) },
    { name: 'application/vnd+json', path: 'express', send: (n) => rawPost(t.url, PATH, { 'content-type': 'application/kpi+json' }, blob(n)) },
    { name: 'a trailing slash', path: 'express', send: (n) => rawPost(t.url, `${PATH}/`, { 'content-type': 'application/json' }, blob(n)) },
  ];

  it.each(cases.map((c, i) => ({ ...c, i })))('stores $name with the same 201, served by the $path path', async ({ send, path, i }) => {
    const res = await expectServedBy(t.metrics, path, () => send(i));
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const { ids, existing } = IngestResponseSchema.parse(res.body);
    expect(existing).toEqual([]);
    const stored = await request(t.url).get(PATH).query({ id: ids[0] }).expect(200);
    expect(stored.body.results).toEqual({ _id: ids[0], timestamp: 1_400_000_000 + i, lang: 'en-US', n: i });
  });

  it('answers errors alike on both paths', async () => {
    const bad = '{"timestamp": "soon"}';
    const fast = await expectServedBy(t.metrics, 'fast', () => rawPost(t.url, PATH, { 'content-type': 'application/json' }, bad));
    const slow = await expectServedBy(t.metrics, 'express', () =>
      rawPost(t.url, PATH, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, new Uint8Array(gzipSync(bad))),
    );
    expect(fast.status).toBe(400);
    expect(fast.body).toEqual(slow.body);
    expect(ErrorBodySchema.parse(fast.body).error).toBe('invalid_blob');
  });

  it('takes a body that starts with a UTF-8 byte order mark on both paths, JSON and form alike', async () => {
    const bom = '\ufeff';
    const sent = [
      await expectServedBy(t.metrics, 'fast', () => rawPost(t.url, PATH, { 'content-type': 'application/json' }, `${bom}${blob(100)}`)),
      await expectServedBy(t.metrics, 'express', () => rawPost(t.url, PATH, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, `${bom}${blob(101)}`, true)),
      await expectServedBy(t.metrics, 'fast', () => rawPost(t.url, PATH, { 'content-type': 'application/x-www-form-urlencoded' }, `${bom}data=${encodeURIComponent(blob(102))}`)),
      await expectServedBy(t.metrics, 'express', () =>
        rawPost(t.url, PATH, { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' }, `${bom}data=${encodeURIComponent(blob(103))}`, true),
      ),
    ];
    for (const [k, res] of sent.entries()) {
      expect(res.status, `case ${k}: ${JSON.stringify(res.body)}`).toBe(201);
      const [id] = IngestResponseSchema.parse(res.body).ids;
      expect((await request(t.url).get(PATH).query({ id }).expect(200)).body.results.n).toBe(100 + k);
    }
  });

  it('reads an empty JSON body as {} (a missing timestamp), as Express does', async () => {
    const res = await expectServedBy(t.metrics, 'fast', () => rawPost(t.url, PATH, { 'content-type': 'application/json', 'content-length': '0' }, ''));
    expect(res.status).toBe(400);
    expect(ErrorBodySchema.parse(res.body)).toMatchObject({ error: 'invalid_blob', reason: expect.stringMatching(/timestamp is required/) });
  });

  it('refuses a form with two data fields, or with more than 100 fields', async () => {
    const twice = await expectServedBy(t.metrics, 'fast', () => rawPost(t.url, PATH, { 'content-type': 'application/x-www-form-urlencoded' }, 'data=%7B%7D&data=%7B%7D'));
    expect(twice.status).toBe(400);
    expect(ErrorBodySchema.parse(twice.body).error).toBe('missing_data');
    const many = Array.from({ length: 101 }, (_, i) => `f${i}=1`).join('&');
    const crowded = await expectServedBy(t.metrics, 'fast', () => rawPost(t.url, PATH, { 'content-type': 'application/x-www-form-urlencoded' }, `${many}&data=%7B%7D`));
    expect(crowded.status).toBe(413);
    expect(ErrorBodySchema.parse(crowded.body).error).toBe('too_large');
  });

  it('refuses a declared length over the limit before reading the body', async () => {
    const res = await expectServedBy(
      t.metrics,
      'fast',
      () =>
        new Promise<{ status: number; body: unknown }>((resolve, reject) => {
          const req = httpRequest(
            `${t.url}${PATH}`,
            { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(TEST_LIMITS.maxBodyBytes + 1) } },
            (r) => {
              let text = '';
              r.on('data', (chunk: Buffer) => (text += chunk.toString()));
              r.on('end', () => resolve({ status: r.statusCode ?? 0, body: JSON.parse(text) as unknown }));
            },
          );
          req.on('error', reject);
          req.write('{"timestamp":1,'); // the rest never comes: the answer must not wait for it
        }),
    );
    expect(res.status).toBe(413);
    expect(ErrorBodySchema.parse(res.body).error).toBe('too_large');
  });

  it('times fast-path requests under the route, by status', async () => {
    // its own requests: the tests above may run after it
    await expectServedBy(t.metrics, 'fast', () => rawPost(t.url, PATH, { 'content-type': 'application/json' }, blob(200)));
    await expectServedBy(t.metrics, 'fast', () => rawPost(t.url, PATH, { 'content-type': 'application/json' }, '{"nope":1}'));
    await expectServedBy(t.metrics, 'fast', () => rawPost(t.url, PATH, { 'content-type': 'application/json' }, '{"timestamp":'));
    const metrics = (await request(t.url).get(Routes.metrics).expect(200)).text;
    expect(metrics).toMatch(/kpiggybank_http_request_duration_seconds_count\{method="POST",route="\/wsapi\/interaction_data",status="201"\} [1-9]/);
    expect(metrics).toMatch(/kpiggybank_http_request_duration_seconds_count\{method="POST",route="\/wsapi\/interaction_data",status="400"\} [1-9]/);
    expect(metrics).toMatch(/kpiggybank_blobs_rejected_total\{reason="malformed_json"\} [1-9]/);
  });
});

describe('the ingest fast path with a write token', () => {
  const WRITE = 'fast-write-token';
  let t: TestApp;
  beforeAll(async () => {
    t = await serveApp(new MemoryStore(), { tokens: { write: WRITE } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('takes the token from the Authorization header or the token parameter, and refuses anything else', async () => {
    const json = { 'content-type': 'application/json' };
    const body = '{"timestamp":1}';
    const fast = (path: string, headers: Record<string, string>) => expectServedBy(t.metrics, 'fast', () => rawPost(t.url, path, headers, body));
    expect((await fast(PATH, { ...json, authorization: `Bearer ${WRITE}` })).status).toBe(201);
    expect((await fast(`${PATH}?token=${WRITE}`, json)).status).toBe(201);
    for (const res of [await fast(PATH, json), await fast(`${PATH}?token=wrong`, json)]) {
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(ErrorBodySchema.parse(res.body).error).toBe('unauthorized');
    }
    expect((await request(t.url).get(`${PATH}/count`).expect(200)).body).toBe(2);
  });
});

describe('the ingest fast path, logging and shutting down', () => {
  it('logs its requests as pino-http does, without the token, and asks clients to close while shutting down', async () => {
    const { sink, records } = logSink();
    const store = new MemoryStore();
    const metrics = new Metrics();
    let shuttingDown = false;
    const app = createApp({
      store,
      metrics,
      logger: createLogger(loadConfig({ MODE: 'dev' }), sink),
      limits: TEST_LIMITS,
      ...appParts(store, metrics),
      isShuttingDown: () => shuttingDown,
    });
    const ok = await request(app).post(`${PATH}?token=secret-in-url`).send({ timestamp: 1 }).expect(201);
    expect(IngestResponseSchema.parse(ok.body).ids).toHaveLength(1);
    await request(app).post(PATH).send({ nope: 1 }).expect(400);
    shuttingDown = true;
    const last = await request(app).post(PATH).send({ timestamp: 2 }).expect(201);
    expect(last.headers.connection).toBe('close');
    expect(await servedBy(metrics)).toEqual({ fast: 3, express: 0 });
    const lines = records<LogRecord & { req?: { method: string; url: string }; res?: { statusCode: number }; responseTime?: number }>();
    const requests = lines.filter((l) => l.msg === 'request completed');
    expect(requests.map((l) => [l.level, l.res?.statusCode])).toEqual([
      [30, 201],
      [40, 400],
      [30, 201],
    ]);
    expect(requests[0]!.req).toMatchObject({ method: 'POST', url: `${PATH}?token=[redacted]` });
    expect(typeof requests[0]!.responseTime).toBe('number');
    expect(JSON.stringify(lines)).not.toContain('secret-in-url');
  });
});
