import { execFile, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoadTest } from '../src/loadtest/load-test.js';
import { alive } from '../harness/alive.js';
import { startTestApp, type TestApp } from './support/app.js';
import { BACKENDS } from './support/stores.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const execute = promisify(execFile);

/** The CLI as a user runs it; resolves with its exit code and output. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execute(process.execPath, ['dist/cli/kpiggybank.js', 'loadtest', ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe.each(BACKENDS)('the load test against the %s backend', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  it('stores every sign-in, one per POST and in batches, and gets each back intact', { timeout: 60_000 }, async () => {
    const single = await runLoadTest({ url: t.url, sequences: 300, clients: 10, batch: 1 });
    expect(single).toMatchObject({ errors: 0, retrieved: 300, missing: 0, altered: 0, count: 300 });
    const batched = await runLoadTest({ url: t.url, sequences: 500, clients: 4, batch: 50 });
    expect(batched).toMatchObject({ errors: 0, retrieved: 500, missing: 0, altered: 0, count: 800 });
    expect(batched.postLatencyMs.p50).toBeGreaterThan(0);
    expect(batched.postLatencyMs.p99).toBeGreaterThanOrEqual(batched.postLatencyMs.p50);
    // the warm-up's blobs, in rounds of the run's size (100, 100, 50), are stored (the count has them) but are not the run's
    const warmed = await runLoadTest({ url: t.url, sequences: 100, clients: 8, batch: 1, warmup: 250 });
    expect(warmed).toMatchObject({ warmup: 250, errors: 0, retrieved: 100, missing: 0, altered: 0, count: 800 + 250 + 100 });
  });
});

describe('kpiggybank loadtest (the CLI)', () => {
  let dir: string;
  let leaky: Server;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-loadtest-test-'));
    // a "store" that answers 201 and keeps nothing
    leaky = createServer((req, res) => {
      req.resume();
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST') res.writeHead(201).end(JSON.stringify({ ok: true, ids: ['x'], existing: [] }));
      else res.end(req.url?.includes('/count') ? '0' : '[]');
    });
    await new Promise<void>((resolve) => leaky.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    leaky.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts the service itself, passes a target it can meet on any machine, and writes the figures as JSON', { timeout: 60_000 }, async () => {
    const json = path.join(dir, 'pass.json');
    const run = await cli(['--backend', 'memory', '--sequences', '300', '--warmup', '200', '--clients', '10', '--target', '1', '--json', json]);
    expect(run.stdout).toMatch(/store \+ retrieve\s+\d+ blobs\/s — target 1: passed/);
    expect(run.code).toBe(0);
    const report = JSON.parse(await readFile(json, 'utf8')) as Record<string, unknown>;
    expect(report).toMatchObject({ passed: true, target: 1, sequences: 300, retrieved: 300, missing: 0, altered: 0, errors: 0 });
  });

  it('exits 1 below the target', { timeout: 60_000 }, async () => {
    const run = await cli(['--backend', 'memory', '--sequences', '100', '--warmup', '100', '--target', '100000000']);
    expect(run.stdout).toMatch(/FAILED/);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(''); // its own service on a fresh store: nothing to warn of
  });

  it('exits 1 when blobs do not come back, however fast', { timeout: 60_000 }, async () => {
    const { port } = leaky.address() as AddressInfo;
    const json = path.join(dir, 'leaky.json');
    const run = await cli(['--url', `http://127.0.0.1:${port}`, '--sequences', '50', '--warmup', '50', '--target', '1', '--json', json]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/0 of 50 \(missing 50/);
    // a running service keeps what the run writes: said on stderr before the run
    expect(run.stderr).toBe(
      `kpiggybank loadtest: writing 100 blobs (50 warm-up + 50 sign-ins) into http://127.0.0.1:${port}: they stay in its store (the load test deletes nothing)\n`,
    );
    expect(JSON.parse(await readFile(json, 'utf8'))).toMatchObject({ passed: false, missing: 50 });
  });

  it('stops the service it started when it is stopped with SIGTERM', { timeout: 60_000 }, async () => {
    const run = spawn(process.execPath, ['dist/cli/kpiggybank.js', 'loadtest', '--backend', 'memory', '--sequences', '10000000', '--warmup', '0'], { cwd: root, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => run.once('exit', resolve));
    const pid = run.pid!;
    const childrenOf = async () => {
      const tasks = await readdir(`/proc/${pid}/task`);
      const lists = await Promise.all(tasks.map((task) => readFile(`/proc/${pid}/task/${task}/children`, 'utf8')));
      return lists.join(' ').split(/\s+/).filter(Boolean).map(Number);
    };
    let service: number | undefined;
    await expect.poll(async () => (service = (await childrenOf())[0]), { timeout: 20_000 }).toBeGreaterThan(0);
    run.kill('SIGTERM');
    expect(await exited).toBe(143);
    await expect.poll(() => alive(service!), { timeout: 5000 }).toBe(false);
  });

  it('in a checkout, `npm run loadtest` (harness/loadtest.ts) runs --backend couchdb on a PouchDB Server it starts when COUCHDB_URL is unset', { timeout: 60_000 }, async () => {
    const { COUCHDB_URL: _unset, ...env } = process.env;
    const { stdout } = await execute(
      process.execPath,
      ['--import', 'tsx', 'harness/loadtest.ts', '--backend', 'couchdb', '--sequences', '30', '--warmup', '0', '--clients', '3', '--target', '1'],
      { cwd: root, env },
    );
    expect(stdout).toMatch(/service\s+couchdb \(started for the run\)/);
    expect(stdout).toMatch(/came back intact\s+30 of 30/);
  });

  it('the shipped CLI does not start a CouchDB: --backend couchdb without COUCHDB_URL is one line, exit 1', async () => {
    const { COUCHDB_URL: _unset, ...env } = process.env;
    const run = await execute(process.execPath, ['dist/cli/kpiggybank.js', 'loadtest', '--backend', 'couchdb'], { cwd: root, env }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^kpiggybank loadtest: --backend couchdb loads the CouchDB that COUCHDB_URL names, and it is not set: .*npm run loadtest/);
  });

  it('refuses a bad option with a message', async () => {
    const run = await cli(['--backend', 'oracle']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--backend must be memory, leveldb or couchdb/);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: kpiggybank loadtest .*--sequences/);
    expect(help.stdout).toMatch(/With --url it writes --warmup \+ --sequences blobs \(6,000 by default\) into that\s+service's store, and they stay there/);
  });
});
