import request from 'supertest';
import { Routes } from 'kpiggybank-client/wire';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/observability/logger.js';
import { Metrics } from '../src/observability/metrics.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { appParts, TEST_LIMITS } from './support/app.js';
import { logSink, type LogRecord } from './support/log-sink.js';

function appLogging(mode: 'dev' | 'prod') {
  const { sink, records } = logSink();
  const logger = createLogger(loadConfig({ MODE: mode }), sink);
  const store = new MemoryStore();
  const metrics = new Metrics();
  const app = createApp({ store, metrics, logger, limits: TEST_LIMITS, ...appParts(store, metrics) });
  return { app, requestLines: () => records<LogRecord & { res?: { statusCode: number } }>().filter((l) => l.msg === 'request completed' || l.msg === 'request errored') };
}

describe('request logging', () => {
  it('writes one line per request in dev', async () => {
    const { app, requestLines } = appLogging('dev');
    await request(app).post(Routes.blobs).send({ timestamp: 1 }).expect(201);
    await request(app).get(Routes.count).expect(200);
    await request(app).post(Routes.blobs).send({}).expect(400);
    expect(requestLines().map((l) => l.res?.statusCode)).toEqual([201, 200, 400]);
  });

  it('is quieter in prod: only requests that went wrong', async () => {
    const { app, requestLines } = appLogging('prod');
    await request(app).post(Routes.blobs).send({ timestamp: 1 }).expect(201);
    await request(app).get(Routes.count).expect(200);
    await request(app).post(Routes.blobs).send({}).expect(400);
    expect(requestLines().map((l) => l.res?.statusCode)).toEqual([400]);
  });
});
