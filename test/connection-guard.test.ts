import { request } from 'node:http';
import { Routes } from 'kpiggybank-client/wire';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { serveApp, startTestApp, TEST_LIMITS, type ServeOptions, type TestApp } from './support/app.js';
import { FeedClient, until } from './support/feed-client.js';
import { postOnce, RawClient, rawRequest } from './support/raw-http.js';
import { BACKENDS } from './support/stores.js';

const INGEST = Routes.blobs;
const JSON_TYPE = { 'Content-Type': 'application/json' }; // the fast path
const PLUS_JSON = { 'Content-Type': 'application/vnd.kpi+json' }; // Express's body parser

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function memoryApp(options: ServeOptions): Promise<TestApp> {
  const store = new MemoryStore();
  await store.open();
  return serveApp(store, options);
}

async function refused(app: TestApp, reason: string): Promise<number> {
  const text = await app.metrics.registry.getSingleMetricAsString('kpiggybank_http_refused_total');
  const match = new RegExp(`reason="${reason}"} (\\d+)`).exec(text);
  return match ? Number(match[1]) : 0;
}

/** A JSON body of exactly `bytes` bytes. */
function blobOfSize(bytes: number, timestamp = 1): string {
  const bare = JSON.stringify({ timestamp, pad: '' });
  return JSON.stringify({ timestamp, pad: 'x'.repeat(bytes - bare.length) });
}

describe.each(BACKENDS)('pipelined requests on the %s backend', (backend) => {
  it('are answered in order, each after the ones before it: 5 POSTs, then GET ?id=<last> and /count, written at once', async () => {
    t = await startTestApp(backend);
    const client = await RawClient.connect(t.url);
    const posts = [0, 1, 2, 3, 4].map((i) => rawRequest('POST', INGEST, i < 3 ? JSON_TYPE : PLUS_JSON, JSON.stringify({ _id: `piped-${i}`, timestamp: 100 + i })));
    client.write(posts.join('') + rawRequest('GET', `${INGEST}?id=piped-4`) + rawRequest('GET', `${INGEST}/count`));
    const responses = await client.waitFor(7, 10_000);
    expect(responses.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 200, 200]);
    expect(JSON.parse(responses[5]!.body)).toMatchObject({ results: { _id: 'piped-4', timestamp: 104 } });
    expect(JSON.parse(responses[6]!.body)).toBe(5);
    client.destroy();
  });
});

describe('a deep pipeline', () => {
  it('of 2,000 requests, far past the 64 the guard queues before it stops reading, is answered whole and in order', async () => {
    t = await memoryApp({});
    const client = await RawClient.connect(t.url);
    let text = '';
    for (let i = 0; i < 1000; i++) text += rawRequest('POST', INGEST, JSON_TYPE, JSON.stringify({ timestamp: i })) + rawRequest('GET', `${INGEST}/count`);
    client.write(text);
    const responses = await client.waitFor(2000, 20_000);
    expect(responses.filter((_, i) => i % 2 === 0).every((r) => r.status === 201)).toBe(true);
    expect(responses.filter((_, i) => i % 2 === 1).map((r) => Number(r.body))).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    client.destroy();
  });
});

describe('a request body that stops arriving', () => {
  it.each([
    ['the fast path', JSON_TYPE],
    ['Express', PLUS_JSON],
  ])('is answered 408 body_timeout through %s, and its connection closed', async (_path, type) => {
    t = await memoryApp({ connections: { bodyTimeoutMs: 200 } });
    const client = await RawClient.connect(t.url);
    const body = blobOfSize(1000);
    client.write(rawRequest('POST', INGEST, { ...type, 'Content-Length': '1000' }, '').concat(body.slice(0, 400)));
    expect(await client.closedWithin(5000)).toBe(true);
    expect(client.responses).toHaveLength(1);
    expect(client.responses[0]).toMatchObject({ status: 408, headers: { 'content-type': expect.stringMatching(/^application\/json/) } });
    expect(JSON.parse(client.responses[0]!.body)).toMatchObject({ error: 'body_timeout', reason: expect.any(String) });
    expect(await t.store.count()).toBe(0);
    expect(t.guard.inFlightBodyBytes).toBe(0);
  });

  it('or headers that never end: the connection is closed', async () => {
    t = await memoryApp({ connections: { bodyTimeoutMs: 200 } });
    const silent = await RawClient.connect(t.url);
    const partial = await RawClient.connect(t.url);
    partial.write('POST /wsapi/interaction_data HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    expect(await silent.closedWithin(5000)).toBe(true);
    expect(await partial.closedWithin(5000)).toBe(true);
    expect(await refused(t, 'headers_timeout')).toBe(2);
  });
});

describe('request bodies in flight', () => {
  it('beyond MAX_INFLIGHT_BODY_BYTES get 503 overloaded with Retry-After, on both paths; room comes back as bodies end', async () => {
    t = await memoryApp({ limits: { ...TEST_LIMITS, maxBodyBytes: 2000 }, connections: { maxInflightBodyBytes: 3000 } });
    const holder = await RawClient.connect(t.url);
    const held = blobOfSize(2000);
    holder.write(rawRequest('POST', INGEST, { ...JSON_TYPE, 'Content-Length': '2000' }, '') + held.slice(0, 10));
    await until(() => t!.guard.inFlightBodyBytes === 2000, 5000, 'the held body counted');

    const fast = await RawClient.connect(t.url);
    fast.write(rawRequest('POST', INGEST, JSON_TYPE, blobOfSize(1500)));
    const chunked = await RawClient.connect(t.url);
    chunked.write(`${rawRequest('POST', INGEST, { ...PLUS_JSON, 'Transfer-Encoding': 'chunked' })}5\r\n{"tim\r\n`);
    for (const client of [fast, chunked]) {
      const [answer] = await client.waitFor(1);
      expect(answer).toMatchObject({ status: 503, headers: { 'retry-after': expect.stringMatching(/^\d+$/) } });
      expect(JSON.parse(answer!.body)).toMatchObject({ error: 'overloaded', reason: expect.any(String) });
    }
    expect(await t.store.count()).toBe(0);

    holder.write(held.slice(10));
    expect((await holder.waitFor(1))[0]!.status).toBe(201);
    expect((await postOnce(t.url, { timestamp: 2, pad: 'y'.repeat(1400) })).status).toBe(201);
    expect(t.guard.inFlightBodyBytes).toBe(0);
    expect(await t.store.count()).toBe(2);
    for (const client of [holder, fast, chunked]) client.destroy();
  });
});

describe('a response the client does not read', () => {
  const BLOBS = 20_000; // ~20 MB: more than loopback's socket buffers take from a reader that reads nothing

  const IDLE_MS = 1000;
  const STEP_MS = 50;

  async function filledApp(): Promise<TestApp> {
    const app = await memoryApp({ connections: { responseIdleTimeoutMs: IDLE_MS } });
    const pad = 'z'.repeat(1000);
    for (let i = 0; i < BLOBS; i += 5000) await app.store.save(Array.from({ length: 5000 }, (_, j) => ({ timestamp: i + j, pad })));
    return app;
  }

  /**
   * The guard's clock moved by `STEP_MS`, then the event loop let run (real time): the server writes,
   * the kernel's buffers fill or drain, the sweep reads what the socket took.
   */
  async function step(): Promise<void> {
    vi.advanceTimersByTime(STEP_MS);
    await new Promise((resolve) => setImmediate(resolve));
  }

  /**
   * Asks for the whole range, reads nothing until `resume` resolves, then everything until the
   * connection closes or the array is complete. With `clockWhileReading`, the guard's clock moves a
   * step at each turn of the event loop in which the client read: a client that reads steadily,
   * however slow the machine is. (Not a step per chunk: libuv reads a socket up to 32 times in a
   * turn, and the server writes more only in a later one.)
   */
  async function readRange(client: RawClient, resume: Promise<unknown>, { clockWhileReading = false } = {}): Promise<string> {
    const chunks: string[] = []; // one character a byte (latin1); joined once at the end, not per chunk
    let read = false;
    client.socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk.toString('latin1'));
      read = true;
    });
    client.socket.pause();
    client.write(rawRequest('GET', `${INGEST}?start=0`));
    await resume;
    client.socket.resume();
    // a kept-alive connection stays open after the answer: stop at the last chunk (the test's timeout bounds the wait)
    while (!client.socket.destroyed && !(chunks.at(-1) ?? '').endsWith('0\r\n\r\n')) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (clockWhileReading && read) {
        read = false;
        vi.advanceTimersByTime(STEP_MS);
      }
    }
    return dechunked(chunks.join(''));
  }

  /** The body of a chunked response, as far as it came. */
  function dechunked(raw: string): string {
    let at = raw.indexOf('\r\n\r\n') + 4;
    let body = '';
    for (;;) {
      const line = raw.indexOf('\r\n', at);
      if (line < 0) break;
      const size = parseInt(raw.slice(at, line), 16);
      if (!(size > 0)) break;
      body += raw.slice(line + 2, line + 2 + size);
      at = line + 2 + size + 2;
      if (at > raw.length) break;
    }
    return Buffer.from(body, 'latin1').toString('utf8');
  }

  it('is cut after RESPONSE_IDLE_TIMEOUT_MS; one that pauses for less is served whole', { timeout: 60_000 }, async () => {
    // The guard's clock (Date) and sweep (setInterval) are the test's, moved in steps: the server and
    // the client share this process, and a loaded machine's stall of either must not count as the
    // client's pause (a real 100 ms pause against a 1 s timeout could be cut).
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    try {
      t = await filledApp();
      const app = t;
      const stalled = await RawClient.connect(app.url);
      let waited = 0; // the guard's milliseconds until it cut the reader that reads nothing
      const cutOff = (async () => {
        while ((await refused(app, 'response_stalled')) === 0 && waited < 10 * IDLE_MS) {
          await step();
          waited += STEP_MS;
        }
      })();
      const cut = await readRange(stalled, cutOff);
      expect(await refused(app, 'response_stalled')).toBe(1);
      expect(waited).toBeGreaterThan(IDLE_MS); // not before the timeout
      expect(cut.length).toBeGreaterThan(0);
      expect(cut.endsWith(']')).toBe(false);
      expect(await stalled.closedWithin(5000)).toBe(true);

      // paused for three quarters of the timeout, over three sweeps that see its bytes wait
      const patient = await RawClient.connect(app.url);
      const pause = (async () => {
        for (let paused = 0; paused < (IDLE_MS * 3) / 4; paused += STEP_MS) await step();
      })();
      const whole = await readRange(patient, pause, { clockWhileReading: true });
      expect((JSON.parse(whole) as unknown[]).length).toBe(BLOBS);
      expect(await refused(app, 'response_stalled')).toBe(1);
      patient.destroy();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('the long-lived feeds', () => {
  it('stay open while idle past every timeout: the legacy stream and the WebSocket feed', async () => {
    t = await memoryApp({ connections: { bodyTimeoutMs: 150, responseIdleTimeoutMs: 150 } });
    const lines: string[] = [];
    const stream = request(`${t.url}${Routes.stream}`, { agent: false }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => lines.push(chunk));
    });
    stream.on('error', () => undefined);
    stream.end();
    const ws = await FeedClient.connect(t.wsUrl);
    await until(() => t!.hub.status().subscribers === 2, 5000, 'both subscribers');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await postOnce(t.url, { timestamp: 7, late: true })).status).toBe(201);
    await until(() => lines.join('').includes('"late":true') && ws.changes.length === 1, 5000, 'the change on both feeds');
    stream.destroy();
    await ws.close();
    expect(await refused(t, 'response_stalled')).toBe(0);
  });
});

describe('MAX_CONNECTIONS', () => {
  it('answers a connection beyond it 503 overloaded and closes it; closes one beyond a sixteenth more (at least 16) at once; serves the others', async () => {
    t = await memoryApp({ connections: { maxConnections: 5 } });
    const app = t;
    const connections = () => new Promise<number>((resolve) => app.server.getConnections((_error, count) => resolve(count)));
    const held = await Promise.all([1, 2, 3, 4, 5].map(() => RawClient.connect(app.url)));
    await expect.poll(connections).toBe(5);

    const over = await RawClient.connect(app.url);
    over.write(rawRequest('GET', `${INGEST}/count`));
    const [answer] = await over.waitFor(1);
    expect(answer).toMatchObject({ status: 503, headers: { 'retry-after': expect.stringMatching(/^\d+$/), connection: 'close' } });
    expect(JSON.parse(answer!.body)).toMatchObject({ error: 'overloaded', reason: expect.stringContaining('connections') });
    expect(await over.closedWithin(2000)).toBe(true);

    const idle = await Promise.all(Array.from({ length: 16 }, () => RawClient.connect(app.url))); // up to 5 + 16
    await expect.poll(connections).toBe(21);
    const extra = await RawClient.connect(app.url);
    extra.write(rawRequest('GET', `${INGEST}/count`));
    expect(await extra.closedWithin(2000)).toBe(true);
    expect(extra.responses).toEqual([]);
    expect(await refused(app, 'too_many_connections')).toBe(2);

    held[0]!.write(rawRequest('GET', `${INGEST}/count`));
    expect((await held[0]!.waitFor(1))[0]).toMatchObject({ status: 200, body: '0' });
    for (const client of [...idle, held[1]!]) client.destroy();
    await expect.poll(connections).toBe(4);
    const next = await RawClient.connect(app.url);
    next.write(rawRequest('GET', `${INGEST}/count`));
    expect((await next.waitFor(1))[0]!.status).toBe(200);
    for (const client of [...held, next]) client.destroy();
  });
});
