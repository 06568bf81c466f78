import { spawn } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Routes } from 'kpiggybank-client/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LevelDbStore } from '../src/store/leveldb/leveldb-store.js';
import { waitUntil } from '../src/loadtest/wait-until.js';
import { alive } from '../harness/alive.js';
import { postBlobs } from './support/post.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/*
 * What systemd or a container supervisor does: signal the process it started, `npm start`.
 * `--ignore-scripts` skips only prestart (the build; `npm test` has built dist/ already): npm
 * still runs the start script through `sh -c`, which is the path the signal must cross.
 */
describe('npm start', () => {
  let dataDir: string;
  beforeAll(async () => {
    await access(path.join(root, 'dist/server.js')).catch(() => {
      throw new Error('dist/server.js is missing: run `npm run build` first (npm test does)');
    });
    dataDir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-npm-start-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`passes ${signal} on to the server, which shuts down keeping every acknowledged blob`, async () => {
      // npm needs PATH and HOME (its cache); nothing else of the caller's environment (a CI's DB_*, say) leaks in
      const env = {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? tmpdir(),
        HOST: '127.0.0.1',
        PORT: '0',
        DATA_DIR: dataDir,
        DB_NAME: `npm_${signal.toLowerCase()}`,
        MODE: 'dev',
        LOG_LEVEL: 'info',
      };
      const npm = spawn('npm', ['start', '--ignore-scripts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
      const listening = new Promise<{ url: string; pid: number }>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          const match = /"pid":(\d+).*?"url":"(http:\/\/[^"]+)".*"msg":"kpiggybank listening"/.exec(output);
          if (match) resolve({ pid: Number(match[1]), url: match[2]! });
        };
        npm.stdout.on('data', onData);
        npm.stderr.on('data', onData);
        void exited.then((code) => reject(new Error(`npm exited with ${code} before the server listened:\n${output}`)));
      });
      let serverPid: number | undefined;
      try {
        const { url, pid } = await listening;
        serverPid = pid;
        expect(pid).not.toBe(npm.pid);
        const acknowledged = await postBlobs(
          url,
          Array.from({ length: 20 }, (_, i) => ({ timestamp: 1_700_000_000 + i, signal })),
        );

        npm.kill(signal);
        expect(await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 15_000))])).not.toBe('still running');
        await waitUntil(() => !alive(pid), { what: `the server's exit (pid ${pid})`, timeoutMs: 5000 }); // no orphan left serving
        await expect(fetch(`${url}${Routes.ping}`)).rejects.toThrow();
        expect(output).toContain(`"signal":"${signal}"`);
        expect(output).toContain('"msg":"stopped"');

        const store = new LevelDbStore({ dataDir, dbName: `npm_${signal.toLowerCase()}`, groupCommit: { maxItems: 100, concurrency: 1 } });
        await store.open();
        try {
          const stored = await Promise.all(acknowledged.map((id) => store.get(id)));
          expect(stored.filter((blob) => blob === undefined)).toEqual([]);
        } finally {
          await store.close();
        }
      } finally {
        if (npm.exitCode === null) npm.kill('SIGKILL');
        if (serverPid !== undefined && alive(serverPid)) process.kill(serverPid, 'SIGKILL');
      }
    });
  }
});
