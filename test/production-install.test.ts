import { execFile, spawn } from 'node:child_process';
import { access, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Routes } from 'kpiggybank-client/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnService, type ServiceProcess } from '../src/loadtest/service-process.js';
import { hasStackTrace, runCli } from './support/cli.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const execute = promisify(execFile);
const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

/*
 * What a deployment runs: the packed package (and the client workspace it depends on), installed
 * with `npm install --omit=dev`, so no devDependency is there. From npm's cache where it can
 * (--prefer-offline): about 7 s here, fast enough to be the real thing rather than a copy.
 */
describe('a production install (npm pack, npm install --omit=dev)', () => {
  let dir: string;
  let installed: string;
  let bin: string;
  let server: ServiceProcess | undefined;
  let url: string;
  // npm needs PATH and HOME (its cache); nothing else of the caller's environment (npm_config_* of an `npm test`) leaks in
  // and no node_modules/.bin of this checkout on PATH (npx and npm put it there): the deployment has no tsc
  const PATH = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => !dir.includes('node_modules'))
    .join(path.delimiter);
  const npmEnv = { PATH, HOME: process.env.HOME ?? tmpdir() };

  beforeAll(async () => {
    if (!(await exists(path.join(root, 'dist/server.js')))) throw new Error('dist/server.js is missing: run `npm run build` first (npm test does)');
    dir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-production-'));
    await execute('npm', ['pack', '--pack-destination', dir], { cwd: root, env: npmEnv });
    await execute('npm', ['pack', '--workspace', 'client', '--pack-destination', dir], { cwd: root, env: npmEnv });
    const tarballs = (await readdir(dir)).filter((name) => name.endsWith('.tgz')).map((name) => `./${name}`);
    expect(tarballs.sort()).toEqual(['./kpiggybank-0.1.0.tgz', './kpiggybank-client-0.1.0.tgz']);
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'deployment', private: true }));
    await execute('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...tarballs], { cwd: dir, env: npmEnv });
    installed = path.join(dir, 'node_modules/kpiggybank');
    bin = path.join(dir, 'node_modules/.bin/kpiggybank');

    // the service from the installed copy, on its default store (leveldb: LevelDB's binary must load)
    server = await spawnService({ entry: path.join(installed, 'dist/server.js'), cwd: dir, env: { PATH: npmEnv.PATH, DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'info' } });
    url = await server.ready;
  }, 180_000);
  afterAll(async () => {
    await server?.stop('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("holds the build and the home page's assets, and no tests, sources or devDependencies", async () => {
    // scripts/prestart.sh is npm start's; scripts/config-docs.ts (npm run docs:config) is a checkout's tool
    for (const file of ['dist/server.js', 'dist/cli/kpiggybank.js', 'dist/web/home.js', 'web/static/home.css', 'web/static/favicon.svg', 'README.md', 'scripts/prestart.sh']) {
      expect(await exists(path.join(installed, file)), file).toBe(true);
    }
    for (const file of ['test', 'src', 'bench', 'harness', 'client', 'web/src', 'dist/web-types', 'vitest.config.ts', 'scripts/config-docs.ts'])
      expect(await exists(path.join(installed, file)), file).toBe(false);
    for (const devDependency of ['pouchdb-server', 'vitest', 'typescript', 'tsx', 'supertest']) {
      expect(await exists(path.join(dir, 'node_modules', devDependency)), devDependency).toBe(false);
    }
  });

  it('serves the API and the home page', async () => {
    const posted = await fetch(`${url}${Routes.blobs}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ timestamp: 1, lang: 'en' }) });
    expect(posted.status).toBe(201);
    expect((await fetch(`${url}${Routes.readyz}`)).status).toBe(200);
    for (const page of ['/', '/assets/home.js', '/assets/home.css']) expect((await fetch(`${url}${page}`)).status, page).toBe(200);
  });

  it('npm start works there: no TypeScript to build with, so it runs the build it has', { timeout: 60_000 }, async () => {
    const npm = spawn('npm', ['start'], {
      cwd: installed,
      env: { ...npmEnv, HOST: '127.0.0.1', PORT: '0', DB_BACKEND: 'memory', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((resolve) => npm.once('exit', resolve));
    try {
      const started = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          const match = /"url":"(http:\/\/[^"]+)".*"msg":"kpiggybank listening"/.exec(output);
          if (match) resolve(match[1]!);
        };
        npm.stdout.on('data', onData);
        npm.stderr.on('data', onData);
        void exited.then((code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
      });
      expect((await fetch(`${started}${Routes.readyz}`)).status).toBe(200);
    } finally {
      npm.kill('SIGTERM'); // the start script execs node: this is the server
      await exited;
    }
  });

  it('its kpiggybank CLI answers --help and counts', async () => {
    const help = await runCli(['--help'], { bin, cwd: dir });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^usage: kpiggybank /);
    expect(await runCli(['count', '--url', url], { bin, cwd: dir })).toMatchObject({ code: 0, stdout: '1\n', stderr: '' });
    const range = await runCli(['range'], { bin, cwd: dir, env: { KPIGGYBANK_URL: url } });
    expect(range.code, range.stderr).toBe(0);
    expect(JSON.parse(range.stdout)).toMatchObject([{ timestamp: 1, lang: 'en' }]);
  });

  it('its load test runs on a service it starts and with --url, and says in one line that --backend couchdb needs COUCHDB_URL', { timeout: 60_000 }, async () => {
    const run = await runCli(['loadtest', '--backend', 'memory', '--sequences', '50', '--warmup', '0', '--clients', '5', '--target', '1'], { bin, cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/came back intact\s+50 of 50/);
    const remote = await runCli(['loadtest', '--url', url, '--sequences', '20', '--warmup', '0', '--clients', '2', '--target', '1'], { bin, cwd: dir });
    expect(remote.code, remote.stderr).toBe(0);
    expect(remote.stderr).toMatch(/writing 20 blobs .* they stay/);
    const couch = await runCli(['loadtest', '--backend', 'couchdb'], { bin, cwd: dir });
    expect(couch.code).toBe(1);
    expect(couch.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^kpiggybank loadtest: --backend couchdb .*COUCHDB_URL.* is not set: set it, or .*npm run loadtest.*PouchDB Server/),
    ]);
    expect(hasStackTrace(couch.stderr)).toBe(false);
  });
});
