import { KpiggybankClient, KpiggybankHttpError, KpiggybankNetworkError, KpiggybankResponseError, Routes, type StoredBlob } from 'kpiggybank-client';
import { undiciHttp, type UndiciHttp } from 'kpiggybank-client/undici';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { freePort } from '../../src/loadtest/free-port.js';
import { BACKENDS } from '../support/stores.js';

const DRAIN = 'drain-token';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

const TRANSPORTS = ['fetch', 'undici'] as const;

describe.each(BACKENDS.flatMap((backend) => TRANSPORTS.map((transport) => [backend, transport] as const)))('the client against the %s backend, over %s', (backend, transport) => {
  let t: TestApp;
  let undici: UndiciHttp | undefined;
  let client: KpiggybankClient;
  beforeAll(async () => {
    t = await startTestApp(backend, { tokens: { drain: DRAIN } });
    undici = transport === 'undici' ? undiciHttp({ connections: 4 }) : undefined;
    client = new KpiggybankClient({ baseUrl: t.url, http: undici?.http });
  });
  afterAll(async () => {
    await undici?.close();
    await t.close();
  });

  it('saves, gets, counts, finds the last, pings', async () => {
    await client.ping();
    expect(await client.last()).toBeUndefined();
    const one = await client.save({ timestamp: 5, lang: 'en' });
    expect(one.ids).toHaveLength(1);
    const batch = await client.save([{ timestamp: 7, _id: 'chosen' }, { timestamp: 6 }]);
    expect(batch.ids[0]).toBe('chosen');
    expect(await client.save({ timestamp: 7, _id: 'chosen' })).toEqual({ ok: true, ids: ['chosen'], existing: ['chosen'] });
    expect(await client.get(one.ids[0]!)).toEqual({ _id: one.ids[0], timestamp: 5, lang: 'en' });
    expect(await client.get('no-such-id')).toBeUndefined();
    expect(await client.count()).toBe(3);
    expect(await client.last()).toMatchObject({ _id: 'chosen', timestamp: 7 });
    expect((await client.range({ start: 6, end: 7 })).map((b) => b.timestamp)).toEqual([6, 7]);
    expect((await client.range({ descending: true, limit: 2 })).map((b) => b.timestamp)).toEqual([7, 6]);
  });

  it('iterates a range page by page, across pages whose edges share a timestamp, both ways', async () => {
    // 7 blobs per timestamp and pages of 5: most page edges fall inside a timestamp
    const blobs = Array.from({ length: 70 }, (_, i) => ({ timestamp: 1_000 + Math.floor(i / 7), _id: `it-${String(i).padStart(3, '0')}` }));
    await client.save(blobs);
    const up = await collect(client.iterate({ start: 1_000, end: 1_009, pageSize: 5 }));
    expect(up.map((b) => b._id)).toEqual(blobs.map((b) => b._id));
    const down = await collect(client.iterate({ start: 1_000, end: 1_009, pageSize: 5, descending: true }));
    expect(down.map((b) => b._id)).toEqual(blobs.map((b) => b._id).reverse());
    expect(await collect(client.iterate({ start: 5_000 }))).toEqual([]);
  });

  it('rejects a bad blob with the server code, reason and index, and stores nothing', async () => {
    const before = await client.count();
    const error = await client.save([{ timestamp: 1 }, { timestamp: -1 }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KpiggybankHttpError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_blob', index: 1, retryable: false });
    expect((error as KpiggybankHttpError).reason).toMatch(/timestamp/);
    expect(await client.count()).toBe(before);
  });

  it('drains: claim, read, commit; a second commit is refused', async () => {
    const drainer = new KpiggybankClient({ baseUrl: t.url, token: DRAIN, http: undici?.http });
    const total = await client.count();
    const drain = await drainer.startDrain();
    expect(drain.count).toBe(total);
    expect(await drainer.drainInfo(drain.id)).toMatchObject({ id: drain.id, count: total });
    const blobs: StoredBlob[] = await collect(drainer.drainBlobs(drain.id));
    expect(blobs).toHaveLength(total);
    const csv = await new Response(await drainer.drainCsv(drain.id)).text();
    expect(csv.trim().split('\n')).toHaveLength(total + 1); // a header, then one row per blob
    expect(await drainer.commitDrain(drain.id)).toEqual({ removed: total });
    expect(await client.count()).toBe(0);
    await expect(drainer.commitDrain(drain.id)).rejects.toMatchObject({ status: 409, code: 'drain_committed' });
    await expect(client.startDrain()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('streams a range and a drain as the service sends them; a released drain lets its blobs go at once', async () => {
    await client.save([
      { timestamp: 20, _id: 's-a', cell: '=1+1' },
      { timestamp: 21, _id: 's-b' },
    ]);
    expect(JSON.parse(await new Response(await client.rangeStream({ start: 20, end: 21 })).text())).toEqual(await client.range({ start: 20, end: 21 }));
    const drainer = new KpiggybankClient({ baseUrl: t.url, token: DRAIN, http: undici?.http });
    const drain = await drainer.startDrain({ start: 20, end: 21 });
    expect(drain.count).toBe(2);
    const ndjson = await new Response(await drainer.drainStream(drain.id)).text();
    expect(
      ndjson
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as StoredBlob)._id)
        .sort(),
    ).toEqual(['s-a', 's-b']);
    expect(await new Response(await drainer.drainStream(drain.id, { format: 'csv', formulas: 'raw' })).text()).toContain(',=1+1');
    expect(await new Response(await drainer.drainStream(drain.id, { format: 'csv' })).text()).toContain(",'=1+1");
    expect(await drainer.releaseDrain(drain.id)).toEqual({ released: 2 });
    const again = await drainer.startDrain({ start: 20, end: 21 }); // at once: not held until the lease ends
    expect(again.count).toBe(2);
    expect(await drainer.commitDrain(again.id)).toEqual({ removed: 2 });
  });
});

describe('the client when things fail', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('memory', { tokens: { read: 'r' } });
  });
  afterAll(async () => {
    await t.close();
  });

  /** A fetch that fails its first `failures` calls as a dropped connection would, counting every call. */
  function flaky(failures: number): { fetch: typeof fetch; calls: () => number } {
    let calls = 0;
    return {
      calls: () => calls,
      fetch: async (input, init) => {
        calls++;
        if (calls <= failures) throw new TypeError('fetch failed: socket hang up');
        return fetch(input, init);
      },
    };
  }
  const quick = { retries: 3, minDelayMs: 1, maxDelayMs: 5 };

  it("an aborted call rejects with the signal's reason as cause, and is not retried", async () => {
    const counting = flaky(0);
    const stop = new AbortController();
    const client = new KpiggybankClient({ baseUrl: t.url, token: 'r', fetch: counting.fetch, retry: quick });
    const why = new Error('stopped by the caller');
    stop.abort(why);
    const error = await client.count({ signal: stop.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KpiggybankNetworkError);
    expect((error as KpiggybankNetworkError).cause).toBe(why);
    expect(counting.calls()).toBe(1);
    expect(await client.count({ signal: new AbortController().signal })).toBe(await t.store.count()); // an unaborted signal changes nothing
  });

  it('sends a password in baseUrl as Basic auth, and leaves it out of error URLs', async () => {
    const seen: (string | null)[] = [];
    const client = new KpiggybankClient({
      baseUrl: `${t.url.replace('http://', 'http://analyst:s%C3%A9cret@')}/`,
      retry: { retries: 0 },
      fetch: (input, init) => {
        seen.push(new Headers(init?.headers).get('authorization'));
        return fetch(input, init);
      },
    });
    const error = await client.count().catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 401 });
    expect(seen).toEqual([`Basic ${Buffer.from('analyst:sécret').toString('base64')}`]);
    expect(String((error as Error).message)).not.toMatch(/cret/);
    expect((error as KpiggybankHttpError).url).toBe(`${t.url}${Routes.count}`);
  });

  it('tells a network failure from an HTTP error, and names the token problem', async () => {
    const port = await freePort(); // nothing listens there
    const error = await new KpiggybankClient({ baseUrl: `http://127.0.0.1:${port}`, retry: { retries: 0 } }).count().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KpiggybankNetworkError);
    expect(error).toMatchObject({ timedOut: false, retryable: true });
    await expect(new KpiggybankClient(t.url).count()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await new KpiggybankClient({ baseUrl: t.url, token: 'r' }).count()).toBe(await t.store.count());
  });

  it('retries reads, and writes only when every blob has an _id', async () => {
    const read = flaky(2);
    expect(await new KpiggybankClient({ baseUrl: t.url, token: 'r', fetch: read.fetch, retry: quick }).count()).toBe(await t.store.count());
    expect(read.calls()).toBe(3);

    const anonymous = flaky(1);
    const writer = new KpiggybankClient({ baseUrl: t.url, fetch: anonymous.fetch, retry: quick });
    await expect(writer.save({ timestamp: 1 })).rejects.toBeInstanceOf(KpiggybankNetworkError);
    expect(anonymous.calls()).toBe(1);

    const named = flaky(1);
    const saved = await new KpiggybankClient({ baseUrl: t.url, fetch: named.fetch, retry: quick }).save([
      { timestamp: 1, _id: 'a' },
      { timestamp: 2, _id: 'b' },
    ]);
    expect(saved.ids).toEqual(['a', 'b']);
    expect(named.calls()).toBe(2);

    const never = flaky(10);
    await expect(new KpiggybankClient({ baseUrl: t.url, token: 'r', fetch: never.fetch, retry: { ...quick, retries: 2 } }).count()).rejects.toBeInstanceOf(KpiggybankNetworkError);
    expect(never.calls()).toBe(3);
  });

  it('retries a 503 but not a 4xx', async () => {
    let calls = 0;
    const unavailable: typeof fetch = async (input, init) => {
      calls++;
      if (calls === 1) return Response.json({ error: 'store_unavailable', reason: 'CouchDB is down' }, { status: 503, headers: { 'retry-after': '0' } });
      return fetch(input, init);
    };
    expect(await new KpiggybankClient({ baseUrl: t.url, token: 'r', fetch: unavailable, retry: quick }).count()).toBe(await t.store.count());
    expect(calls).toBe(2);
    const bad = flaky(0);
    await expect(new KpiggybankClient({ baseUrl: t.url, token: 'r', fetch: bad.fetch, retry: quick }).range({ start: 1.5 })).rejects.toMatchObject({
      status: 400,
      code: 'invalid_query',
    });
    expect(bad.calls()).toBe(1);
  });

  it('times out a call that gets no answer', async () => {
    const hang: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    const error = await new KpiggybankClient({ baseUrl: t.url, fetch: hang, timeoutMs: 50, retry: { retries: 0 } }).count().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KpiggybankNetworkError);
    expect(error).toMatchObject({ timedOut: true });
  });

  it('refuses an answer that breaks the wire contract', async () => {
    const liar: typeof fetch = async () => Response.json({ count: 'many' });
    await expect(new KpiggybankClient({ baseUrl: t.url, fetch: liar }).count()).rejects.toBeInstanceOf(KpiggybankResponseError);
  });
});

describe('the client over undici when things fail', () => {
  const undici = undiciHttp();
  let silent: Server;
  let silentUrl: string;
  let asked = 0;
  beforeAll(async () => {
    // answers nothing for 5 s, then 503 with Retry-After, then 200: the client's retry and timeout paths
    silent = createServer((req, res) => {
      asked++;
      if (req.url?.startsWith('/hang')) return void setTimeout(() => res.end('{}'), 5_000).unref();
      if (asked % 2 === 1) res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"error":"store_unavailable","reason":"down"}');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('7');
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    silentUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await undici.close();
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('times out a call that gets no answer, and says so', async () => {
    const error = await new KpiggybankClient({ baseUrl: `${silentUrl}/hang`, http: undici.http, timeoutMs: 50, retry: { retries: 0 } }).count().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KpiggybankNetworkError);
    expect(error).toMatchObject({ timedOut: true, retryable: true });
  });

  it('tells a refused connection from a timeout', async () => {
    const port = await freePort(); // nothing listens there
    const error = await new KpiggybankClient({ baseUrl: `http://127.0.0.1:${port}`, http: undici.http, retry: { retries: 0 } }).count().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KpiggybankNetworkError);
    expect(error).toMatchObject({ timedOut: false });
  });

  it('decodes an error answer and its Retry-After, and retries it', async () => {
    asked = 0;
    const once = new KpiggybankClient({ baseUrl: silentUrl, http: undici.http, retry: { retries: 0 } });
    await expect(once.count()).rejects.toMatchObject({ status: 503, code: 'store_unavailable', reason: 'down', retryAfterMs: 1000 });
    asked = 0;
    const retrying = new KpiggybankClient({ baseUrl: silentUrl, http: undici.http, retry: { retries: 2, minDelayMs: 1, maxDelayMs: 5 } });
    expect(await retrying.count()).toBe(7);
    expect(asked).toBe(2);
  });
});
