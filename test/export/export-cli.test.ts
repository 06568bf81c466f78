// `kpiggybank export` end to end: the real CLI in a process of its own, a real service, a real
// DuckDB file; and each mistake a user can make told in one line, with its exit code.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/loadtest/free-port.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { hasStackTrace, runCli } from '../support/cli.js';
import { startExporter } from '../support/exporter-process.js';
import { postBlobs } from '../support/post.js';
import { withDuckDb } from '../support/duckdb-file.js';

/** Rows of a query on a DuckDB file (opened after the exporter has exited: DuckDB lets one process write it). */
const query = (path: string, sql: string) => withDuckDb(path, async (connection) => (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[]);

describe('kpiggybank export', () => {
  let app: TestApp;
  let dir: string;
  beforeAll(async () => {
    app = await startTestApp('memory');
    dir = await mkdtemp(join(tmpdir(), 'export-cli-'));
  });
  afterAll(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  const configFor = async (name: string, url: string, extra = '') => {
    const file = join(dir, `${name}.toml`);
    await writeFile(
      file,
      `source = { url = "${url}" }

[[exports]]
name = "${name}"
destination = { kind = "duckdb", path = "${name}.duckdb" }
${extra}`,
    );
    return file;
  };

  it('--once loads every blob into DuckDB and exits 0; a second run loads only the new ones; status says where it stands', async () => {
    const first = await postBlobs(
      app.url,
      Array.from({ length: 50 }, (_, i) => ({ timestamp: 1_700_000_000 + i, user_agent: { browser: i % 2 ? 'firefox' : 'chrome' }, n: i })),
    );
    const config = await configFor('web', app.url, '[exports.columns]\nbrowser = { path = "user_agent.browser", type = "text" }\n');
    const run = await runCli(['export', '--once', '--config', config]);
    expect(run.stderr).not.toMatch(/"level":(40|50|60)/);
    expect(run.code).toBe(0);
    // one JSON line per batch (stderr is not a terminal here), then one per job at the end
    const lines = run.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.filter((line) => line.msg === 'loaded').length).toBeGreaterThan(0);
    expect(lines.at(-1)).toMatchObject({ msg: 'done', job: 'web', loaded: 50, total_rows: 50 });

    const second = await postBlobs(app.url, [{ timestamp: 1_700_000_100, user_agent: { browser: 'safari' } }]);
    expect((await runCli(['export', '--once', '--config', config])).code).toBe(0);

    const path = join(dir, 'web.duckdb');
    const ids = (await query(path, 'SELECT _id FROM web ORDER BY _id')).map((row) => row._id);
    expect(ids).toEqual([...first, ...second].sort());
    expect(await query(path, 'SELECT browser, count(*)::INTEGER AS n FROM web GROUP BY browser ORDER BY browser')).toEqual([
      { browser: 'chrome', n: 25 },
      { browser: 'firefox', n: 25 },
      { browser: 'safari', n: 1 },
    ]);

    const status = await runCli(['export', 'status', '--config', config]);
    expect(status.code).toBe(0);
    const seq = await app.store.currentSeq();
    expect(status.stdout).toMatch(new RegExp(`^job +checkpoint +rows +behind +lag\\nweb +${seq} +51 +0 +0ms\\n`));
    expect(status.stdout).toContain(`web: duckdb ${path}, table web`);
  });

  it('follows until SIGTERM, then loads the batch in hand and exits 0', async () => {
    const config = await configFor('live', app.url, 'batch = { max_delay = "50ms" }\n');
    const exporter = startExporter(config, 'follow');
    await exporter.caughtUp;
    const [id] = await postBlobs(app.url, [{ timestamp: 1_700_000_200, live: true }]);
    // loaded while following: its batch's log line names one row
    await expect.poll(() => exporter.stderr().includes('"msg":"loaded","rows":1') || /"rows":1,/.test(exporter.stderr()), { timeout: 10_000 }).toBe(true);
    expect((await exporter.stop()).code).toBe(0);
    expect(exporter.stderr()).toContain('"msg":"stopped"');
    expect((await query(join(dir, 'live.duckdb'), `SELECT count(*)::INTEGER AS n FROM live WHERE _id = '${id}'`))[0]).toEqual({ n: 1 });
  });

  it('reports every mistake of a config in a line of its own, exit 2', async () => {
    const file = join(dir, 'typo.toml');
    await writeFile(file, '[[exports]]\nname = "a"\ndestination = { kind = "duckdb", path = "a.duckdb" }\n[exports.columns]\nlang = "strng"\n\n[[exports]]\nname = "B"\n');
    const run = await runCli(['export', '--once', '--config', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `kpiggybank export: ${file}: exports[0].columns.lang: unknown type "strng" (one of text, bigint, double, boolean, timestamptz, json)\n` +
        `kpiggybank export: ${file}: exports[1].name: name must be lowercase letters, digits and _, starting with a letter\n`,
    );
  });

  it.each([
    ['a missing config file', async () => ['export', '--config', join(dir, 'absent.toml')], 2, /^kpiggybank export: .*absent\.toml: no such file/],
    ['a TOML syntax error', async () => ['export', '--config', await writeText('bad.toml', 'exports = [\n')], 2, /^kpiggybank export: .*bad\.toml:2:\d+: TOML syntax error: /],
    ['--once with --follow', async () => ['export', '--once', '--follow'], 2, /^kpiggybank: --once and --follow are each other's opposite/],
    ['an unknown option', async () => ['export', '--onec'], 2, /^kpiggybank: unknown option '--onec'/],
    ['a stray argument', async () => ['export', 'statuss'], 2, /^kpiggybank: unexpected argument "statuss"/],
    [
      'an unreachable service',
      async () => ['export', '--once', '--config', await configFor('away', `http://127.0.0.1:${await freePort()}`)],
      1,
      /^kpiggybank export: cannot reach the service at http:\/\/127\.0\.0\.1:\d+: /,
    ],
  ])('%s: one line and its exit code, no stack trace', async (_what, args, code, line) => {
    const run = await runCli(await args());
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(line);
    expect(run.stderr.split('\n')[0]).toMatch(line);
    if (code === 1) expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(hasStackTrace(run.stderr)).toBe(false);
  });

  it('a refused read token: one line naming READ_TOKEN, exit 1, nothing loaded', async () => {
    const guarded = await startTestApp('memory', { tokens: { read: 'the-read-token' } });
    try {
      await postBlobs(guarded.url, [{ timestamp: 1_700_000_000 }]);
      const config = await configFor('guarded', guarded.url);
      for (const env of [{}, { READ_TOKEN: 'wrong' }] as Record<string, string>[]) {
        const run = await runCli(['export', '--once', '--config', config], { env });
        expect(run.code).toBe(1);
        const lines = run.stderr.trim().split('\n');
        expect(lines.at(-1)).toMatch(/^kpiggybank export: export "guarded": the service (refused the token in READ_TOKEN|needs its read token and none was given): set READ_TOKEN/);
        expect(hasStackTrace(run.stderr)).toBe(false);
      }
      const run = await runCli(['export', '--once', '--config', config], { env: { READ_TOKEN: 'the-read-token' } });
      expect(run.code).toBe(0);
      expect(await query(join(dir, 'guarded.duckdb'), 'SELECT count(*)::INTEGER AS n FROM guarded')).toEqual([{ n: 1 }]);
    } finally {
      await guarded.close();
    }
  });

  async function writeText(name: string, text: string): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, text);
    return file;
  }
});
