import { request as httpRequest } from 'node:http';
import { ErrorBodySchema, Routes } from 'kpiggybank-client/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { serveApp, type TestApp } from './support/app.js';
import { FeedClient } from './support/feed-client.js';

const PATH = Routes.blobs;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A request with exactly these headers (fetch would not let a test set Host). */
function send(url: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method, headers, setHost: !('host' in headers) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const form = (blob: object) => `data=${encodeURIComponent(JSON.stringify(blob))}`;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };
const EVIL = 'http://evil.example';

/** Resolves with the status of a refused WebSocket handshake, or 101 when it opened (and is closed at once). */
function handshake(wsUrl: string, headers: Record<string, string>): Promise<{ status: number; messages: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wsUrl}?since=0`, { headers });
    let messages = 0;
    ws.on('message', () => messages++);
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, messages });
      res.resume();
      ws.terminate();
    });
    ws.once('open', () =>
      setTimeout(() => {
        ws.close();
        resolve({ status: 101, messages });
      }, 200),
    );
    ws.once('error', (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

describe('requests from other origins and hosts, with no token set (the default)', () => {
  let t: TestApp;
  let own: string;
  beforeAll(async () => {
    t = await serveApp(new MemoryStore());
    own = t.url;
    expect((await send(t.url, 'POST', PATH, JSON_TYPE, JSON.stringify({ timestamp: 1, _id: 'history' }))).status).toBe(201);
  });
  afterAll(async () => {
    await t.close();
  });
  const count = async () => Number((await send(t.url, 'GET', `${PATH}/count`, {})).text);

  it('refuses a form POST from a foreign page (CSRF) on the fast path and through Express, storing nothing', async () => {
    const before = await count();
    const fast = await send(t.url, 'POST', PATH, { ...FORM, origin: EVIL }, form({ timestamp: 2 }));
    const slow = await send(t.url, 'POST', PATH, { ...FORM, origin: EVIL, 'transfer-encoding': 'chunked' }, form({ timestamp: 3 }));
    const json = await send(t.url, 'POST', PATH, { ...JSON_TYPE, origin: EVIL }, JSON.stringify({ timestamp: 4 }));
    const noOrigin = await send(t.url, 'POST', PATH, { ...FORM, 'sec-fetch-site': 'cross-site' }, form({ timestamp: 5 }));
    for (const res of [fast, slow, json, noOrigin]) {
      expect(res.status).toBe(403);
      expect(ErrorBodySchema.parse(JSON.parse(res.text)).error).toBe('forbidden_origin');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
    expect(await count()).toBe(before);
  });

  it("takes POSTs from the service's own pages and from clients that send no Origin", async () => {
    const before = await count();
    expect((await send(t.url, 'POST', PATH, { ...FORM, origin: own, 'sec-fetch-site': 'same-origin' }, form({ timestamp: 6 }))).status).toBe(201);
    expect((await send(t.url, 'POST', PATH, FORM, form({ timestamp: 7 }))).status).toBe(201);
    expect(await count()).toBe(before + 2);
  });

  it("refuses a foreign page's WebSocket before the handshake, so it reads no history, and its reads", async () => {
    expect(await handshake(t.wsUrl, { origin: EVIL })).toEqual({ status: 403, messages: 0 });
    const feed = await FeedClient.connect(t.wsUrl, { since: '0' }, { headers: { origin: own } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(feed.changes.map((c) => c.id)).toContain('history');
    await feed.close();
    for (const path of [`${PATH}?id=history`, `${PATH}/count`, PATH, `${PATH}/stream?since=0`]) {
      expect((await send(t.url, 'GET', path, { origin: EVIL })).status, path).toBe(403);
    }
  });

  it('refuses a Host that is not a loopback name while listening on loopback (DNS rebinding), and takes the loopback ones', async () => {
    const port = new URL(t.url).port;
    const before = await count();
    const rebound = await send(t.url, 'POST', PATH, { ...JSON_TYPE, host: `evil.example:${port}`, origin: `http://evil.example:${port}` }, JSON.stringify({ timestamp: 8 }));
    expect(rebound.status).toBe(421);
    expect(ErrorBodySchema.parse(JSON.parse(rebound.text)).error).toBe('unknown_host');
    expect((await send(t.url, 'GET', `${PATH}/count`, { host: `evil.example:${port}` })).status).toBe(421);
    expect(await handshake(t.wsUrl, { host: `evil.example:${port}` })).toEqual({ status: 421, messages: 0 });
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `app.localhost:${port}`]) {
      expect((await send(t.url, 'POST', PATH, { ...JSON_TYPE, host, origin: `http://${host}` }, JSON.stringify({ timestamp: 9 }))).status, host).toBe(201);
    }
    expect(await count()).toBe(before + 4);
  });

  it('sends nosniff and no-referrer with every answer, the fast path and the feed refusal included', async () => {
    const answers = [
      await send(t.url, 'GET', `${PATH}/count`, {}),
      await send(t.url, 'POST', PATH, JSON_TYPE, JSON.stringify({ timestamp: 10 })),
      await send(t.url, 'POST', PATH, { ...JSON_TYPE, origin: EVIL }, '{}'),
      await send(t.url, 'GET', '/nowhere', {}),
    ];
    for (const res of answers) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
    }
  });
});

describe('origins and hosts that the operator allows', () => {
  const DASHBOARD = 'https://dash.example';
  let t: TestApp;
  beforeAll(async () => {
    t = await serveApp(new MemoryStore(), { origins: { allowedOrigins: [DASHBOARD], allowedHosts: ['kpi.example'] } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('lets an allowed origin write, read (CORS headers), preflight and follow the feed; others stay refused', async () => {
    const posted = await send(t.url, 'POST', PATH, { ...JSON_TYPE, origin: DASHBOARD }, JSON.stringify({ timestamp: 1 }));
    expect(posted.status).toBe(201);
    expect(posted.headers['access-control-allow-origin']).toBe(DASHBOARD);
    const read = await send(t.url, 'GET', `${PATH}/count`, { origin: DASHBOARD });
    expect([read.status, read.text, read.headers['access-control-allow-origin'], read.headers.vary]).toEqual([200, '1', DASHBOARD, 'Origin']);
    const preflight = await send(t.url, 'OPTIONS', PATH, { origin: DASHBOARD, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    expect(preflight.headers['access-control-allow-headers']).toMatch(/content-type/i);
    expect((await handshake(t.wsUrl, { origin: DASHBOARD })).status).toBe(101);
    expect((await send(t.url, 'OPTIONS', PATH, { origin: EVIL, 'access-control-request-method': 'POST' })).status).toBe(403);
    expect((await handshake(t.wsUrl, { origin: EVIL })).status).toBe(403);
  });

  it('answers for a host name that ALLOWED_HOSTS lists, and still refuses others', async () => {
    const port = new URL(t.url).port;
    expect((await send(t.url, 'GET', `${PATH}/count`, { host: `kpi.example:${port}` })).status).toBe(200);
    expect((await send(t.url, 'GET', `${PATH}/count`, { host: `other.example:${port}` })).status).toBe(421);
  });
});
