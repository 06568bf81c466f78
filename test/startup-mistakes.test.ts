import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Routes } from 'kpiggybank-client/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenFailure, storeOpenFailure } from '../src/startup-failure.js';
import { spawnServer, type ServerProcess } from './support/server-process.js';

/** What a terminal shows: the lines, none of them a stack frame. */
function expectOneLineNoStack(output: string, line: RegExp): void {
  expect(output).toMatch(line);
  expect(output).not.toMatch(/\n\s+at /);
  expect(output).not.toContain('"stack"');
}

describe('startup mistakes: one line naming the cause and the fix, exit 1', () => {
  let dataDir: string;
  let first: ServerProcess & { ready: Promise<string> };
  let url: URL;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-startup-'));
    first = await spawnServer({ DATA_DIR: dataDir });
    url = new URL(await first.ready);
  });
  afterAll(async () => {
    first.child.kill('SIGTERM');
    await first.exited;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a port in use: names the port and PORT', async () => {
    const second = await spawnServer({ DB_BACKEND: 'memory', PORT: url.port });
    expect(await second.exited).toBe(1);
    expectOneLineNoStack(
      second.output(),
      new RegExp(`kpiggybank: port ${url.port} on 127\\.0\\.0\\.1 is in use by another process: stop it, or set PORT to another port \\(PORT=0 picks a free one\\)\\n`),
    );
  });

  it('a DATA_DIR another kpiggybank holds: names the folder and DATA_DIR', async () => {
    const second = await spawnServer({ DATA_DIR: dataDir });
    expect(await second.exited).toBe(1);
    expectOneLineNoStack(
      second.output(),
      new RegExp(
        `kpiggybank: DATA_DIR ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by another kpiggybank \\(its LevelDB is locked\\): stop that one, or set DATA_DIR to another folder\\n`,
      ),
    );
    // the first one is unharmed
    expect((await fetch(new URL(Routes.readyz, url))).status).toBe(200);
  });

  it('a DATA_DIR that cannot be created: names the folder, what the system said, and DATA_DIR', async () => {
    const second = await spawnServer({ DATA_DIR: '/dev/null/data' });
    expect(await second.exited).toBe(1);
    expectOneLineNoStack(second.output(), /kpiggybank: DATA_DIR \/dev\/null\/data cannot be used \(not a directory: mkdir \/dev\/null\/data\): .*set DATA_DIR to another folder\n/);
  });

  it('DB_BACKEND=pouchdb, from an env file of before the leveldb backend: starts on leveldb, with a one-line notice', async () => {
    const oldDir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-alias-'));
    const old = await spawnServer({ DB_BACKEND: 'pouchdb', DATA_DIR: oldDir, MODE: 'prod', LOG_LEVEL: 'info' });
    try {
      const ready = new URL(await old.ready);
      expect((await fetch(new URL(Routes.readyz, ready))).status).toBe(200);
      const notices = old
        .output()
        .split('\n')
        .filter((line) => line.includes('DB_BACKEND=pouchdb'));
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/is now the leveldb backend/);
      expect(old.output()).toMatch(/"backend":"leveldb"/);
    } finally {
      old.child.kill('SIGTERM');
      await old.exited;
      await rm(oldDir, { recursive: true, force: true });
    }
  });

  it('explains the folder errors an operator causes, and leaves the rest alone', () => {
    const failure = (code: string, syscall: string, where: string) => Object.assign(new Error(code), { code, syscall, path: where });
    const config = { backend: 'leveldb' as const, dataDir: '/srv/kpi' };
    expect(storeOpenFailure(failure('EACCES', 'mkdir', '/srv/kpi'), config)).toMatch(
      /^DATA_DIR \/srv\/kpi cannot be used \(permission denied: mkdir \/srv\/kpi\): let this user write to it, or set DATA_DIR/,
    );
    expect(storeOpenFailure(failure('EROFS', 'open', '/srv/kpi/LOG'), config)).toMatch(/read-only file system/);
    expect(storeOpenFailure(failure('EACCES', 'mkdir', '/srv/kpi'), { ...config, backend: 'memory' })).toBeUndefined();
    expect(storeOpenFailure(new Error('corrupted'), config)).toBeUndefined();
  });

  it('explains the other listen failures an operator causes, and leaves the rest alone', () => {
    const failure = (code: string) => Object.assign(new Error(code), { code });
    expect(listenFailure(failure('EACCES'), '0.0.0.0', 80)).toMatch(/port 80 on 0\.0\.0\.0 .*privilege.*set PORT/);
    expect(listenFailure(failure('EADDRNOTAVAIL'), '10.9.9.9', 3000)).toMatch(/HOST 10\.9\.9\.9 is not an address of this machine.*set HOST/);
    expect(listenFailure(failure('ENOTFOUND'), 'nowhere.invalid', 3000)).toMatch(/HOST nowhere\.invalid .*set HOST/);
    expect(listenFailure(failure('EMFILE'), '127.0.0.1', 3000)).toBeUndefined();
  });
});
