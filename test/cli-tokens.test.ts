import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Routes } from 'kpiggybank-client/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStackTrace, runCli } from './support/cli.js';
import { spawnServer, type ServerProcess } from './support/server-process.js';

const READ = 'cli-read-token';
const DRAIN = 'cli-drain-token';
const UNREACHABLE = 'http://127.0.0.1:9'; // the discard port: nothing listens there

const post = (url: string, blobs: object[]) => fetch(`${url}${Routes.blobs}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(blobs) });

/** One line on stderr, exit 1, no stack trace, and no token printed. */
function expectOneLine(run: { code: number | null; stdout: string; stderr: string }): string {
  expect(run.code, run.stderr).toBe(1);
  expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1);
  expect(hasStackTrace(run.stderr)).toBe(false);
  expect(run.stdout + run.stderr).not.toContain(READ);
  expect(run.stdout + run.stderr).not.toContain(DRAIN);
  return run.stderr;
}

describe('the CLI reads KPIGGYBANK_URL, DRAIN_TOKEN and READ_TOKEN; flags win; auth errors say what to set', () => {
  let dir: string;
  const servers: ServerProcess[] = [];
  let guarded: string; // READ_TOKEN and DRAIN_TOKEN set
  let open: string; // no DRAIN_TOKEN: draining disabled
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-cli-tokens-'));
    const a = await spawnServer({ DB_BACKEND: 'memory', READ_TOKEN: READ, DRAIN_TOKEN: DRAIN, LOG_LEVEL: 'info' });
    const b = await spawnServer({ DB_BACKEND: 'memory', LOG_LEVEL: 'info' });
    servers.push(a, b);
    [guarded, open] = await Promise.all([a.ready, b.ready]);
    expect(
      (
        await post(guarded, [
          { timestamp: 1, n: 1 },
          { timestamp: 2, n: 2 },
        ])
      ).status,
    ).toBe(201);
  });
  afterAll(async () => {
    for (const server of servers) server.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('count and range take the service from KPIGGYBANK_URL and the token from READ_TOKEN', { timeout: 60_000 }, async () => {
    const env = { KPIGGYBANK_URL: guarded, READ_TOKEN: READ };
    const [count, range] = await Promise.all([runCli(['count'], { env }), runCli(['range', '--start', '1', '--end', '2'], { env })]);
    expect(count).toMatchObject({ code: 0, stdout: '2\n' });
    expect(range.code, range.stderr).toBe(0);
    expect((JSON.parse(range.stdout) as { n: number }[]).map((blob) => blob.n)).toEqual([1, 2]);
  });

  it('--url and --token win over the environment', { timeout: 60_000 }, async () => {
    const run = await runCli(['count', '--url', guarded, '--token', READ], { env: { KPIGGYBANK_URL: UNREACHABLE, READ_TOKEN: 'wrong' } });
    expect(run).toMatchObject({ code: 0, stdout: '2\n' });
  });

  it('a 401 on a read says to pass --token or set READ_TOKEN, and which one was refused', { timeout: 60_000 }, async () => {
    const [none, flag, variable] = await Promise.all([
      runCli(['count', '--url', guarded]),
      runCli(['count', '--url', guarded, '--token', 'wrong']),
      runCli(['range', '--url', guarded], { env: { READ_TOKEN: 'wrong' } }),
    ]);
    for (const run of [none, flag, variable]) expect(expectOneLine(run)).toMatch(/401.*--token.*READ_TOKEN|401.*READ_TOKEN.*--token/);
    expect(flag.stderr).toMatch(/refused the token given with --token/);
    expect(variable.stderr).toMatch(/refused the token in READ_TOKEN/);
  });

  it('drain takes its token from DRAIN_TOKEN; without one, the 401 says to pass --token or set DRAIN_TOKEN, and nothing is claimed', { timeout: 60_000 }, async () => {
    const refused = await runCli(['drain', '--url', guarded, '--out', path.join(dir, 'refused.ndjson')]);
    expect(expectOneLine(refused)).toMatch(/401.*--token.*DRAIN_TOKEN/);
    const out = path.join(dir, 'kpi.ndjson');
    const drained = await runCli(['drain', '--out', out], { env: { KPIGGYBANK_URL: guarded, DRAIN_TOKEN: DRAIN } });
    expect(drained.code, drained.stderr).toBe(0);
    expect((await readFile(out, 'utf8')).trim().split('\n')).toHaveLength(2);
    expect(drained.stdout + drained.stderr).not.toContain(DRAIN);
  });

  it('a service with draining disabled (403): says to start it with DRAIN_TOKEN, then pass the same with --token or DRAIN_TOKEN', { timeout: 60_000 }, async () => {
    const run = await runCli(['drain', '--url', open, '--out', path.join(dir, 'disabled.ndjson')], { env: { DRAIN_TOKEN: DRAIN } });
    expect(expectOneLine(run)).toMatch(/403.*draining is disabled.*DRAIN_TOKEN.*--token/);
  });
});
