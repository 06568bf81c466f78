import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from './support/feed-client.js';
import { spawnServer, type ServerProcess } from './support/server-process.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const TOKEN = 'cli-drain-token';

function cli(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/kpiggybank.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, output: () => output };
}

describe('kpiggybank drain (the CLI) on the pouchdb backend', () => {
  let dir: string;
  let server: (ServerProcess & { ready: Promise<string> }) | undefined;
  afterAll(async () => {
    server?.child.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('killed half-way deletes nothing; the next run drains everything to an fsynced file and commits', { timeout: 120_000 }, async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-cli-'));
    server = spawnServer({ DB_BACKEND: 'pouchdb', DATA_DIR: path.join(dir, 'data'), DRAIN_TOKEN: TOKEN, DRAIN_LEASE_MS: '20000', LOG_LEVEL: 'info' });
    const url = await server.ready;
    const total = 10_000;
    for (let i = 0; i < total; i += 1000) {
      const res = await fetch(`${url}/wsapi/interaction_data`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(Array.from({ length: 1000 }, (_, j) => ({ timestamp: i + j, lang: 'en', event_stream: [['screen.rp_info', 0]] }))),
      });
      expect(res.status).toBe(201);
    }
    const count = async () => (await (await fetch(`${url}/wsapi/interaction_data/count`)).json()) as number;

    const out = path.join(dir, 'first.ndjson');
    const first = cli(['drain', '--url', url, '--token', TOKEN, '--out', out]);
    await until(() => first.output().includes('claimed'), 60_000, 'the claim');
    // as soon as the first bytes are on disk, kill it
    for (;;) {
      const size = await stat(out).then((s) => s.size, () => 0);
      if (size > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(await count()).toBe(total);

    await new Promise((resolve) => setTimeout(resolve, 20_200)); // the killed drain's lease runs out (long enough for the second run on a loaded machine)
    const secondOut = path.join(dir, 'second.ndjson');
    const second = cli(['drain', '--url', url, '--token', TOKEN, '--out', secondOut]);
    expect((await second.exited).code, second.output()).toBe(0);
    const lines = (await readFile(secondOut, 'utf8')).split('\n').filter(Boolean);
    expect(lines.length).toBe(total);
    expect(new Set(lines.map((line) => (JSON.parse(line) as { _id: string })._id)).size).toBe(total);
    expect(await count()).toBe(0);
    expect(second.output()).toContain(`${total} blobs written`);
  });
});
