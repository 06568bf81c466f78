import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drainRoutes, DrainSchema, Routes } from 'kpiggybank-client/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metric } from './support/app.js';
import { until } from './support/feed-client.js';
import { spawnServer, type ServerProcess } from './support/server-process.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const TOKEN = 'cli-drain-token';
const auth = { Authorization: `Bearer ${TOKEN}` };

/** The real CLI; with `fileSizeKiB`, under `ulimit -f` (writes past it fail with EFBIG: a full disk, as far as the CLI can tell). */
function cli(args: string[], { fileSizeKiB }: { fileSizeKiB?: number } = {}) {
  const command = [process.execPath, '--import', 'tsx', 'src/cli/kpiggybank.ts', ...args];
  const child =
    fileSizeKiB === undefined
      ? spawn(command[0]!, command.slice(1), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', `ulimit -f ${fileSizeKiB} && exec "$@"`, 'sh', ...command], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, output: () => output };
}

/** A CLI's output says what went wrong in lines of its own, never with a stack trace. */
function expectNoStack(output: string): void {
  expect(output).not.toMatch(/^\s+at /m);
  expect(output).not.toMatch(/node:internal|\.ts:\d+/);
  expect(output).not.toContain(TOKEN);
}

async function fill(url: string, total: number, blob: (i: number) => object = (i) => ({ timestamp: i, lang: 'en', event_stream: [['screen.rp_info', 0]] })): Promise<void> {
  for (let i = 0; i < total; i += 1000) {
    const res = await fetch(`${url}${Routes.blobs}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(Array.from({ length: Math.min(1000, total - i) }, (_, j) => blob(i + j))),
    });
    expect(res.status).toBe(201);
  }
}

const count = async (url: string) => (await (await fetch(`${url}${Routes.count}`)).json()) as number;
const claim = async (url: string) => DrainSchema.parse(await (await fetch(`${url}${Routes.drains}`, { method: 'POST', headers: auth })).json());
const release = (url: string, id: string) => fetch(`${url}${drainRoutes(id).release}`, { method: 'POST', headers: auth });
const lines = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter(Boolean);
const partials = async (dir: string) => (await readdir(dir)).filter((name) => name.endsWith('.partial'));

/**
 * Resolves once all `total` blobs can be claimed again: a dead drain's lease has run out, as the
 * service reckons it (a read in flight at the kill may have renewed it). Probes with a claim it
 * releases at once, and sleeps until the holders' lease ends in between.
 */
async function claimable(url: string, total: number): Promise<void> {
  for (;;) {
    const probe = await claim(url);
    expect((await release(url, probe.id)).status).toBe(200);
    if (probe.count === total) return;
    const until = Math.max(0, ...(probe.held ?? []).map((holder) => holder.until));
    await new Promise((resolve) => setTimeout(resolve, Math.max(20, until - Date.now() + 20)));
  }
}

/** Resolves once the drain's temporary file has bytes: the CLI is streaming. */
async function streaming(dir: string): Promise<void> {
  for (;;) {
    for (const name of await partials(dir)) if ((await stat(path.join(dir, name)).catch(() => undefined))?.size) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

type Server = ServerProcess & { ready: Promise<string> };

describe('kpiggybank drain (the CLI)', () => {
  let dir: string;
  const servers: Server[] = [];
  const serve = async (env: Record<string, string>) => {
    const server = await spawnServer({ DRAIN_TOKEN: TOKEN, LOG_LEVEL: 'info', ...env });
    servers.push(server);
    return { server, url: await server.ready };
  };
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-cli-'));
  });
  afterAll(async () => {
    for (const server of servers) server.child.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('killed half-way deletes nothing and leaves no file; the next run drains everything to an fsynced file and commits', { timeout: 120_000 }, async () => {
    const { url } = await serve({ DATA_DIR: path.join(dir, 'data-kill'), DRAIN_LEASE_MS: '3000' });
    const total = 10_000;
    await fill(url, total);
    const sub = path.join(dir, 'kill');
    await rm(sub, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(sub));
    const out = path.join(sub, 'kpi.ndjson');
    const first = cli(['drain', '--url', url, '--token', TOKEN, '--out', out]);
    await streaming(sub); // as soon as the first bytes are on disk, kill it
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(await count(url)).toBe(total);
    await expect(stat(out)).rejects.toThrow(/ENOENT/); // only the temporary file was written

    await claimable(url, total); // the killed drain's lease runs out
    const second = cli(['drain', '--url', url, '--token', TOKEN, '--out', out]); // the same command again
    expect((await second.exited).code, second.output()).toBe(0);
    const drained = await lines(out);
    expect(drained.length).toBe(total);
    expect(new Set(drained.map((line) => (JSON.parse(line) as { _id: string })._id)).size).toBe(total);
    expect(await count(url)).toBe(0);
    expect(second.output()).toContain(`${total} blobs written`);
  });

  describe('on the memory backend', () => {
    let url: string;
    beforeAll(async () => {
      ({ url } = await serve({ DB_BACKEND: 'memory' }));
    });

    it('never replaces an existing file unless --force, and refuses before it claims (also on an empty store)', { timeout: 60_000 }, async () => {
      const out = path.join(dir, 'precious.ndjson');
      await writeFile(out, "the analyst's earlier drain\n");
      const empty = cli(['drain', '--url', url, '--token', TOKEN, '--out', out]);
      expect((await empty.exited).code).toBe(1);
      expect(empty.output()).toMatch(/precious\.ndjson exists: nothing was claimed.*--force/);
      await fill(url, 2000);
      const refused = cli(['drain', '--url', url, '--token', TOKEN, '--out', out]);
      expect((await refused.exited).code).toBe(1);
      expect(await readFile(out, 'utf8')).toBe("the analyst's earlier drain\n");
      expect(await metric(url, 'kpiggybank_drains_total{event="started"}')).toBeUndefined(); // nothing was claimed
      expect(await count(url)).toBe(2000);
      const forced = cli(['drain', '--url', url, '--token', TOKEN, '--out', out, '--force']);
      expect((await forced.exited).code, forced.output()).toBe(0);
      expect(await lines(out)).toHaveLength(2000);
      expect(await partials(dir)).toEqual([]);
      expectNoStack(refused.output() + forced.output());
    });

    it('checks that the destination can be written before it claims: a path under a regular file is one line, nothing claimed', { timeout: 60_000 }, async () => {
      await fill(url, 500);
      const before = (await metric(url, 'kpiggybank_drains_total{event="started"}')) ?? 0;
      const under = path.join(dir, 'precious.ndjson', 'kpi.ndjson');
      const run = cli(['drain', '--url', url, '--token', TOKEN, '--out', under]);
      expect((await run.exited).code).toBe(1);
      expect(run.output().trim().split('\n')).toEqual([expect.stringMatching(/^kpiggybank: cannot write .*kpi\.ndjson: ENOTDIR.*nothing was claimed$/)]);
      expect((await metric(url, 'kpiggybank_drains_total{event="started"}')) ?? 0).toBe(before);
      const next = await claim(url);
      expect(next.count).toBe(500); // nothing held: all there for the next drain
      expect((await fetch(`${url}${drainRoutes(next.id).commit}`, { method: 'POST', headers: auth })).status).toBe(200);
    });

    it('a write error after the claim (the file size limit: EFBIG) releases the claim at once and says so; no file is left', { timeout: 60_000 }, async () => {
      await fill(url, 5000);
      const sub = await mkdtemp(path.join(dir, 'full-'));
      const out = path.join(sub, 'kpi.ndjson');
      const run = cli(['drain', '--url', url, '--token', TOKEN, '--out', out], { fileSizeKiB: 64 });
      expect((await run.exited).code).toBe(1);
      const output = run.output();
      expect(output).toMatch(/claimed 5000 blobs/);
      expect(output).toMatch(/cannot write .*kpi\.ndjson.*EFBIG.*: nothing was deleted; drain \w+ is released: its blobs can be drained again now; .* was not written/);
      expectNoStack(output);
      expect(await readdir(sub)).toEqual([]);
      const next = await claim(url); // at once, not after the lease
      expect(next.count).toBe(5000);
      expect((await release(url, next.id)).status).toBe(200);
      expect(await count(url)).toBe(5000);
    });

    it('blobs held by another drain: "N blobs held by drain X until HH:MM", exit 1, no file, nothing deleted', { timeout: 60_000 }, async () => {
      const other = await claim(url);
      expect(other.count).toBe(5000);
      const out = path.join(dir, 'held.ndjson');
      const run = cli(['drain', '--url', url, '--token', TOKEN, '--out', out]);
      expect((await run.exited).code).toBe(1);
      expect(run.output()).toMatch(
        new RegExp(`nothing drained: the 5000 blobs of the range are held by other drains: 5000 blobs held by drain ${other.id} until \\d\\d:\\d\\d\\. Nothing was deleted`),
      );
      expect(run.output()).not.toMatch(/deleted from the store/);
      await expect(stat(out)).rejects.toThrow(/ENOENT/);
      expect(await partials(dir)).toEqual([]);
      expect((await release(url, other.id)).status).toBe(200);
    });

    it('SIGINT or SIGTERM while streaming releases the claim, says nothing was deleted, and exits non-zero', { timeout: 60_000 }, async () => {
      await fill(url, 5000, (i) => ({ timestamp: 10_000 + i, padding: 'x'.repeat(1000) })); // 5 MB: still streaming when the signal comes
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        const sub = await mkdtemp(path.join(dir, `${signal}-`));
        const run = cli(['drain', '--url', url, '--token', TOKEN, '--out', path.join(sub, 'kpi.ndjson')]);
        await streaming(sub);
        run.child.kill('SIGSTOP'); // held mid-stream, so that the signal lands there
        run.child.kill(signal);
        run.child.kill('SIGCONT');
        const { code } = await run.exited;
        expect(code).toBe(signal === 'SIGINT' ? 130 : 143);
        expect(run.output()).toMatch(new RegExp(`interrupted by ${signal}: nothing was deleted; drain \\w+ is released`));
        expect(await readdir(sub)).toEqual([]);
        const next = await claim(url);
        expect(next.count).toBe(10_000);
        expect((await release(url, next.id)).status).toBe(200);
      }
    });

    it('CSV: formula-like cells get a leading quote; --csv-raw writes them as they are', { timeout: 60_000 }, async () => {
      const first = cli(['drain', '--url', url, '--token', TOKEN, '--format', 'csv', '--out', path.join(dir, 'escaped.csv')]);
      expect((await first.exited).code, first.output()).toBe(0);
      await fill(url, 2, (i) => ({ _id: `f${i}`, timestamp: i, cell: '=HYPERLINK("http://evil.example")', n: -5 }));
      const escaped = cli(['drain', '--url', url, '--token', TOKEN, '--format', 'csv', '--out', path.join(dir, 'formulas.csv')]);
      expect((await escaped.exited).code, escaped.output()).toBe(0);
      expect(await readFile(path.join(dir, 'formulas.csv'), 'utf8')).toBe(
        '_id,timestamp,cell,n\r\nf0,0,"\'=HYPERLINK(""http://evil.example"")",-5\r\nf1,1,"\'=HYPERLINK(""http://evil.example"")",-5\r\n',
      );
      await fill(url, 1, () => ({ _id: 'raw', timestamp: 7, cell: '@SUM(1)' }));
      const raw = cli(['drain', '--url', url, '--token', TOKEN, '--format', 'csv', '--csv-raw', '--out', path.join(dir, 'raw.csv')]);
      expect((await raw.exited).code, raw.output()).toBe(0);
      expect(await readFile(path.join(dir, 'raw.csv'), 'utf8')).toBe('_id,timestamp,cell\r\nraw,7,@SUM(1)\r\n');
    });

    it('bad options: one line and the usage, exit 2, no stack trace', async () => {
      for (const args of [
        ['drain', '--bogus'],
        ['drain', '--out', 'x', '--format', 'xml'],
        ['drain'],
        ['drain', '--out', 'x', '--start', 'yesterday'],
        ['drain', '--out', 'x', '--csv-raw'],
      ]) {
        const run = cli([...args, '--url', url]);
        expect((await run.exited).code, args.join(' ')).toBe(2);
        expect(run.output()).toMatch(/^kpiggybank: .*\n\nusage: kpiggybank drain /);
        expectNoStack(run.output());
      }
    });
  });

  it('Ctrl-C during the commit: cut short, with the resume command; the same command again leaves the file alone; --resume finishes', { timeout: 120_000 }, async () => {
    const { url } = await serve({ DATA_DIR: path.join(dir, 'data-sigint') });
    const total = 20_000;
    await fill(url, total);
    const out = path.join(dir, 'sigint.ndjson');
    const args = ['drain', '--url', url, '--token', TOKEN, '--out', out];
    const run = cli(args);
    await until(() => run.output().includes('committing'), 60_000, 'the commit');
    run.child.kill('SIGINT');
    expect((await run.exited).code).toBe(130);
    const id = /drain (\w+) claimed/.exec(run.output())![1]!;
    expect(run.output()).toMatch(
      new RegExp(`the commit of drain ${id} was cut short \\(interrupted by SIGINT\\).*Finish it with: kpiggybank drain --resume ${id} --url ${url} --token "\\$DRAIN_TOKEN"`),
    );
    expectNoStack(run.output());
    expect(await lines(out)).toHaveLength(total);

    const again = cli(args); // what the README told the analyst to do after a failure
    expect((await again.exited).code).toBe(1);
    expect(again.output()).toMatch(/exists: nothing was claimed/);
    expect(await lines(out)).toHaveLength(total);

    const resumed = cli(['drain', '--resume', id, '--url', url, '--token', TOKEN]);
    expect((await resumed.exited).code, resumed.output()).toBe(0);
    expect(resumed.output()).toMatch(new RegExp(`drain ${id} (committed: its blobs are deleted from the store|is committed already)`));
    expect(await count(url)).toBe(0);
    expect(await lines(out)).toHaveLength(total);
  });

  it('the server killed during the commit: cut short, not just "socket hang up"; after a restart, --resume waits for the lease and finishes', { timeout: 120_000 }, async () => {
    const dataDir = path.join(dir, 'data-server-kill');
    // Longer than a restart and the CLI's start, so that --resume meets the lease. Renewed every quarter
    // while committing, it has ≥ 15 s left at the kill; 8 s left ≥ 6 s, which a loaded 2-core machine
    // can spend restarting a service and a CLI through tsx. The test waits the rest of it out.
    const env = { DATA_DIR: dataDir, DRAIN_LEASE_MS: '20000' };
    const { server, url } = await serve(env);
    const total = 20_000;
    await fill(url, total);
    const out = path.join(dir, 'server-kill.ndjson');
    const run = cli(['drain', '--url', url, '--token', TOKEN, '--out', out]);
    await until(() => run.output().includes('committing'), 60_000, 'the commit');
    while ((await count(url)) === total) await new Promise((resolve) => setTimeout(resolve, 5)); // the commit has begun deleting
    server.child.kill('SIGKILL');
    await server.exited;
    expect((await run.exited).code).toBe(1);
    const id = /drain (\w+) claimed/.exec(run.output())![1]!;
    expect(run.output()).toMatch(new RegExp(`the commit of drain ${id} was cut short \\(.+\\).*Finish it with: kpiggybank drain --resume ${id}`));
    expectNoStack(run.output());
    expect(await lines(out)).toHaveLength(total);

    const restarted = await serve(env);
    const left = await count(restarted.url);
    expect(left).toBeGreaterThan(0); // cut short indeed
    const resumed = cli(['drain', '--resume', id, '--url', restarted.url, '--token', TOKEN]);
    expect((await resumed.exited).code, resumed.output()).toBe(0);
    expect(resumed.output()).toMatch(new RegExp(`drain ${id} is being committed by another service instance, or was until it died; waiting until \\d\\d:\\d\\d to resume it`));
    expect(resumed.output()).toMatch(new RegExp(`drain ${id} committed: its blobs are deleted from the store \\(${left} by the commit that finished it\\)`));
    expect(await count(restarted.url)).toBe(0);
  });

  it('a connection cut mid-stream is one line that says what was deleted (nothing) and when the blobs are free', { timeout: 120_000 }, async () => {
    const { server, url } = await serve({ DATA_DIR: path.join(dir, 'data-cut') });
    await fill(url, 10_000);
    const sub = await mkdtemp(path.join(dir, 'cut-'));
    const run = cli(['drain', '--url', url, '--token', TOKEN, '--out', path.join(sub, 'kpi.ndjson')]);
    await streaming(sub);
    server.child.kill('SIGKILL');
    expect((await run.exited).code).toBe(1);
    const output = run.output().trim().split('\n');
    expect(output.at(-1)).toMatch(
      /^kpiggybank: the connection to http:\S+ was cut after \d+ of the 10000 blobs \(.+\): nothing was deleted; drain \w+ could not be released \(.+\): its blobs can be drained again once its lease ends, by \d\d:\d\d; .* was not written$/,
    );
    expectNoStack(run.output());
    expect(await readdir(sub)).toEqual([]);
  });
});
