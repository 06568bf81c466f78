import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestResponseSchema, RangeResponseSchema, Routes } from 'kpiggybank-client/wire';
import { spawnServer } from './support/server-process.js';

describe('graceful shutdown on the leveldb backend (the default)', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-shutdown-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps every blob that got a 201 when SIGTERM arrives mid-load, across a restart', async () => {
    const env = { DATA_DIR: dataDir, LOG_LEVEL: 'info' };
    const first = await spawnServer(env);
    const url = await first.ready;

    const acknowledged: string[] = [];
    let refused = 0;
    let sent = 0;
    let stop = false;
    const client = async (c: number) => {
      for (let i = 0; !stop; i++) {
        sent++;
        try {
          const batch = Array.from({ length: 1 + (i % 3) }, (_, k) => ({ timestamp: Date.now(), client: c, i, k }));
          const res = await fetch(`${url}${Routes.blobs}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(batch),
          });
          if (res.status === 201) acknowledged.push(...IngestResponseSchema.parse(await res.json()).ids);
          else refused++;
        } catch {
          refused++; // refused or cut off during shutdown: not acknowledged, so not promised
          if (first.child.exitCode !== null) return;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    };
    const clients = Array.from({ length: 32 }, (_, c) => client(c));
    await new Promise((r) => setTimeout(r, 1500));
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    stop = true;
    await Promise.all(clients);
    expect(acknowledged.length).toBeGreaterThan(100);
    expect(first.output()).toContain('"msg":"stopped"');

    const second = await spawnServer(env);
    const url2 = await second.ready;
    try {
      const stored = RangeResponseSchema.parse(await (await fetch(`${url2}${Routes.blobs}?shape=blobs`)).json());
      const ids = new Set(stored.map((b) => b._id));
      const lost = acknowledged.filter((id) => !ids.has(id));
      expect(lost).toEqual([]);
      expect(await (await fetch(`${url2}${Routes.count}`)).json()).toBe(stored.length);
      console.log(`shutdown test: ${sent} requests sent, ${acknowledged.length} blobs acknowledged, ${refused} refused or cut, ${stored.length} stored`);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});
