import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHANGE, CHANGE_END, META, MIGRATION, TIME, TIME_END, type Meta, type Migration } from '../src/store/leveldb/keys.js';
import { LevelDbStore } from '../src/store/leveldb/leveldb-store.js';
import type { StoredBlob } from '../src/store/store.js';
import { openPouchDb, writePouchDbLayout } from './support/pouchdb-layout.js';
import { spawnServer } from './support/server-process.js';
import { allChanges } from './support/stores.js';

const groupCommit = { maxItems: 500, concurrency: 4 };
const dbName = 'bid_kpi';

/** A logger whose lines the test reads. */
function capturingLogger() {
  const lines: { msg: string; [field: string]: unknown }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
  return { logger, lines };
}

/** What the raw leveldb database holds, kind by kind. */
async function rawState(location: string): Promise<{ meta: Meta; migration: Migration | undefined; blobs: number; ids: string[]; changes: number }> {
  const db = new ClassicLevel<string, string>(location, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  try {
    const meta = JSON.parse((await db.get(META)) ?? '{"count":0,"seq":0}') as Meta;
    const migration = await db.get(MIGRATION);
    return {
      meta,
      migration: migration === undefined ? undefined : (JSON.parse(migration) as Migration),
      blobs: (await db.keys({ gt: TIME, lt: TIME_END }).all()).length,
      ids: (await db.keys({ gt: 'i', lt: 'j' }).all()).map((key) => key.slice(1)),
      changes: (await db.keys({ gt: CHANGE, lt: CHANGE_END }).all()).length,
    };
  } finally {
    await db.close();
  }
}

/** The bytes of a directory's files: for a LevelDB, its log and tables, which grow as batches are written. */
async function bytesIn(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir).catch(() => [])) total += (await stat(path.join(dir, name)).catch(() => undefined))?.size ?? 0;
  return total;
}

describe('the leveldb store over a DATA_DIR of the pouchdb backend', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-migration-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('moves every blob over with its id, timestamp and fields, once', { timeout: 60_000 }, async () => {
    const blobs = 5000;
    const pouch = await writePouchDbLayout(dataDir, dbName, blobs, (i) => ({
      // chosen ids for every 7th, some with characters that need care in a key; timestamps repeat and spread
      ...(i % 7 === 0 ? { _id: `chosen/${i}-é ✓` } : {}),
      timestamp: i % 10 === 0 ? 1_700_000_000_000 : 1_000_000 + ((i * 7919) % 100_000) * 1000,
      n: i,
      nested: { list: [i, String(i), null, true], deep: { x: i / 3 } },
    }));
    const removed = pouch.ids.filter((_, i) => i % 97 === 5);
    await pouch.remove(removed);
    const expected = pouch.stored();
    expect(expected).toHaveLength(blobs - removed.length);
    expect(await pouch.documents()).toBe(expected.length);
    await pouch.close();

    const { logger, lines } = capturingLogger();
    const store = new LevelDbStore({ dataDir, dbName, groupCommit, logger });
    await store.open();
    try {
      expect(await store.count()).toBe(expected.length);
      // timestamp-then-id order, every field, every id and timestamp
      expect(await store.page({}, undefined, blobs + 1)).toEqual(expected);
      for (const blob of expected) expect(await store.get(blob._id)).toEqual(blob);
      for (const id of removed) expect(await store.get(id)).toBeUndefined();
      // the change feed from 0 lists each migrated blob once
      const { changes } = await allChanges(store, '0', 700);
      expect(changes.map((c) => c.id).sort()).toEqual(expected.map((b) => b._id).sort());
      expect(changes.every((c) => !c.deleted && c.doc !== undefined)).toBe(true);
      expect(await store.currentSeq()).toBe(String(expected.length));
      // and the store goes on: a migrated chosen id is taken, new blobs number on
      expect(await store.save([{ _id: 'chosen/0-é ✓', timestamp: 1 }, { timestamp: 2 }])).toMatchObject({ existing: ['chosen/0-é ✓'] });
      expect(await store.count()).toBe(expected.length + 1);
    } finally {
      await store.close();
    }
    const started = lines.find((line) => /migrating/.test(line.msg));
    const ended = lines.find((line) => /migrated/.test(line.msg));
    expect(started).toMatchObject({ documents: expected.length });
    expect(ended).toMatchObject({ blobs: expected.length });
    expect(ended!.msg).toMatch(/can be deleted once satisfied; drains unfinished on it must be started again/);
    expect((await rawState(path.join(dataDir, `${dbName}.leveldb`))).migration).toMatchObject({ state: 'done', moved: expected.length });
    // the pouchdb store is left as it was (LevelDB's opening rewrites its log into a table, so its files are not byte for byte the same)
    const old = await openPouchDb(dataDir, dbName);
    try {
      expect(await old.documents()).toBe(expected.length);
    } finally {
      await old.close();
    }

    // a second opening does not migrate again
    const second = capturingLogger();
    const again = new LevelDbStore({ dataDir, dbName, groupCommit, logger: second.logger });
    await again.open();
    try {
      expect(await again.count()).toBe(expected.length + 1);
      expect(second.lines.filter((line) => /migrat/.test(line.msg))).toEqual([]);
    } finally {
      await again.close();
    }
  });

  it('opens a DATA_DIR without a pouchdb store without migrating or creating one', async () => {
    const { logger, lines } = capturingLogger();
    const store = new LevelDbStore({ dataDir, dbName, groupCommit, logger });
    await store.open();
    await store.save([{ timestamp: 1 }]);
    await store.close();
    expect(lines.filter((line) => /migrat/.test(line.msg))).toEqual([]);
    expect((await readdir(dataDir)).sort()).toEqual([`${dbName}.leveldb`, `${dbName}.leveldb-claims`]);
    expect((await rawState(path.join(dataDir, `${dbName}.leveldb`))).migration).toBeUndefined();
  });

  it('refuses to start while a pouchdb-backed service still holds the store, in words an operator can act on', { timeout: 60_000 }, async () => {
    const old = await openPouchDb(dataDir, dbName); // as the former service did: its LevelDB, locked
    try {
      const upgraded = await spawnServer({ DB_BACKEND: 'leveldb', DATA_DIR: dataDir, LOG_LEVEL: 'info' });
      void upgraded.ready.catch(() => undefined);
      expect(await upgraded.exited).toBe(1);
      expect(upgraded.output()).toMatch(/DATA_DIR .* is in use by another kpiggybank \(its LevelDB is locked\)/);
    } finally {
      await old.close();
    }
    // and once it is stopped, the migration runs (nothing to move: an empty store)
    const upgraded = await spawnServer({ DB_BACKEND: 'leveldb', DATA_DIR: dataDir, LOG_LEVEL: 'info' });
    await upgraded.ready;
    upgraded.child.kill('SIGTERM');
    expect(await upgraded.exited).toBe(0);
    expect(upgraded.output()).toMatch(/migrated 0 blobs/);
  });

  it('killed (SIGKILL) while migrating, resumes on the next start: every blob once', { timeout: 120_000 }, async () => {
    const blobs = 50_000;
    // Killed once the migration has written a few chunks (2,000 blobs, ~0.55 MB of LevelDB log each),
    // far from its end (25 chunks): its progress on disk, rather than a time (800 ms) that a loaded
    // machine may not have moved a chunk in, or a fast one may have finished in.
    const CUT_AFTER_BYTES = 2 * 2 ** 20;
    const t0 = Date.now();
    const pouch = await writePouchDbLayout(dataDir, dbName, blobs, (i) => ({ timestamp: 1_600_000_000_000 + (i % 1000) * 997, i, kind: 'kpi' }));
    const { ids } = pouch;
    await pouch.close();
    const filled = Date.now();
    const env = { DB_BACKEND: 'leveldb', DATA_DIR: dataDir, LOG_LEVEL: 'info' };
    const first = await spawnServer(env);
    void first.ready.catch(() => undefined); // it is killed before it listens
    while (!/migrating/.test(first.output())) {
      if (first.child.exitCode !== null) throw new Error(`the server exited before migrating:\n${first.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const migrating = Date.now();
    const location = path.join(dataDir, `${dbName}.leveldb`);
    while ((await bytesIn(location)) < CUT_AFTER_BYTES) {
      if (first.child.exitCode !== null) throw new Error(`the server exited while migrating:\n${first.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const bytesAtKill = await bytesIn(location);
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    await first.exited;
    const cut = await rawState(location);
    expect(cut.migration?.state).toBe('running');
    expect(cut.meta.count).toBeGreaterThan(0);
    expect(cut.meta.count).toBeLessThan(blobs);
    expect(cut.blobs).toBe(cut.meta.count);
    const movedBeforeKill = cut.meta.count;

    const second = await spawnServer(env);
    const resumed = Date.now();
    await second.ready;
    const listening = Date.now();
    expect(second.output()).toMatch(/resuming after \d+ blobs already moved/);
    // the end's line counts what this start moved apart from the total
    expect(second.output()).toContain(`"thisStart":${blobs - movedBeforeKill}`);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    const bytesAtEnd = await bytesIn(location);
    const raw = await rawState(location);
    expect(raw.migration).toMatchObject({ state: 'done', moved: blobs });
    expect(raw.meta).toEqual({ count: blobs, seq: blobs });
    expect(raw.blobs).toBe(blobs);
    expect(raw.changes).toBe(blobs);
    expect(raw.ids.sort()).toEqual([...ids].sort());
    const store = new LevelDbStore({ dataDir, dbName, groupCommit });
    await store.open();
    try {
      const all: StoredBlob[] = await store.page({}, undefined, blobs + 1);
      expect(all).toHaveLength(blobs);
      expect(new Set(all.map((b) => b._id)).size).toBe(blobs);
      expect(all.every((b) => b.kind === 'kpi' && b.timestamp === 1_600_000_000_000 + (Number(b.i) % 1000) * 997)).toBe(true);
    } finally {
      await store.close();
    }
    const seconds = (ms: number) => (ms / 1000).toFixed(1);
    const speed = Math.round((blobs - movedBeforeKill) / ((listening - resumed) / 1000));
    const logged = /"seconds":([\d.]+)/.exec(second.output())?.[1];
    console.log(
      `migration: filled ${blobs} pouchdb blobs in ${seconds(filled - t0)} s; first start moved ${movedBeforeKill} in ~${seconds(killedAt - migrating)} s before SIGKILL (${bytesAtKill} bytes on disk; ${bytesAtEnd} after the migration); ` +
        `second start moved ${blobs - movedBeforeKill} and listened after ${seconds(listening - resumed)} s (~${speed} blobs/s including process start; the migration itself logged ${logged} s)`,
    );
  });
});
