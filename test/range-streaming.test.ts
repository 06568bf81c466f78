import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Routes, RowsResponseSchema } from 'kpiggybank-client/wire';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import type { RangeCursor, RangeQuery, StoredBlob } from '../src/store/store.js';
import { serveApp, type TestApp } from './support/app.js';

/** A memory store that counts page reads and can hold one back. */
class WatchedStore extends MemoryStore {
  pages = 0;
  gate: Promise<void> | undefined;

  override async page(query: RangeQuery, after: RangeCursor | undefined, size: number): Promise<StoredBlob[]> {
    this.pages++;
    if (after && this.gate) await this.gate;
    return super.page(query, after, size);
  }
}

function get(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => httpRequest(url, resolve).on('error', reject).end());
}

async function fill(store: MemoryStore, total: number): Promise<void> {
  for (let i = 0; i < total; i += 10_000) {
    await store.save(Array.from({ length: Math.min(10_000, total - i) }, (_, j) => ({ timestamp: i + j, n: i + j })));
  }
}

describe('range responses', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
  });

  it('are sent as they are read: the first page arrives while the next is still being fetched', async () => {
    const store = new WatchedStore();
    await fill(store, 2500);
    let release!: () => void;
    store.gate = new Promise((resolve) => (release = resolve));
    t = await serveApp(store);

    const res = await get(`${t.url}${Routes.blobs}`);
    expect(res.statusCode).toBe(200);
    const first = await new Promise<string>((resolve) => res.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    expect(first).toMatch(/^\[\{.*"timestamp":0,/);
    expect(store.pages).toBe(2); // the second page is held back, and the first is already here

    release();
    let rest = '';
    for await (const chunk of res) rest += chunk.toString();
    expect((JSON.parse(first + rest) as unknown[]).length).toBe(2500);
  });

  it('read the store only as fast as the client reads the response', async () => {
    const store = new WatchedStore();
    const total = 200_000; // 200 pages
    await fill(store, total);
    t = await serveApp(store);

    const res = await get(`${t.url}${Routes.blobs}`);
    res.pause();
    await new Promise((r) => setTimeout(r, 500));
    const readWhilePaused = store.pages;
    console.log(`pages read while the client paused: ${readWhilePaused} of ${total / 1000}`);
    expect(readWhilePaused).toBeLessThan(150); // socket buffers hold some pages, not the whole range

    let body = '';
    res.setEncoding('utf8');
    for await (const chunk of res) body += chunk;
    const rows = RowsResponseSchema.parse(JSON.parse(body));
    expect(rows.length).toBe(total);
    expect([rows[total - 1]!.key, rows[total - 1]!.value.timestamp]).toEqual([total - 1, total - 1]);
    expect(store.pages).toBe(total / 1000 + 1); // the last, short page ends the walk
  });

  it('stop reading the store when the client goes away', async () => {
    const store = new WatchedStore();
    await fill(store, 200_000);
    t = await serveApp(store);

    const res = await get(`${t.url}${Routes.blobs}`);
    res.pause();
    await new Promise((r) => setTimeout(r, 200));
    res.destroy();
    await new Promise((r) => setTimeout(r, 300));
    const afterLeaving = store.pages;
    await new Promise((r) => setTimeout(r, 300));
    expect(store.pages).toBe(afterLeaving);
    expect(afterLeaving).toBeLessThan(150);
  });
});
