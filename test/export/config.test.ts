import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/formats/toml-file.js';
import { loadConfig, parseConfig } from '../../src/export/load-config.js';

/** The lines a config's mistakes are reported in (or [] when it is right). */
function problems(text: string): readonly string[] {
  try {
    parseConfig(text, 'export.toml');
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

const MINIMAL = `
[[exports]]
name = "web"
destination = { kind = "duckdb", path = "web.duckdb" }
`;

describe('the export config file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'export-config-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('takes a minimal config, with the defaults filled in and paths relative to the file', async () => {
    const file = join(dir, 'ok.toml');
    await writeFile(file, MINIMAL);
    const config = await loadConfig(file);
    expect(config.source.url).toBe('http://127.0.0.1:3000');
    const [job] = config.exports;
    expect(job).toMatchObject({ name: 'web', infer: true, include_deleted: false, columns: {}, batch: { max_blobs: 2_000, max_delay: '1s' } });
    expect(job?.destination).toEqual({ kind: 'duckdb', path: join(dir, 'web.duckdb') });
  });

  it('loads a job with no destination into DuckDB, kpiggybank.duckdb beside the config, a table per job', async () => {
    const file = join(dir, 'bare.toml');
    await writeFile(file, '[[exports]]\nname = "web"\n\n[[exports]]\nname = "api"\n');
    const config = await loadConfig(file);
    expect(config.exports.map((job) => job.destination)).toEqual([
      { kind: 'duckdb', path: join(dir, 'kpiggybank.duckdb') },
      { kind: 'duckdb', path: join(dir, 'kpiggybank.duckdb') },
    ]);
  });

  it('reads both ways of declaring a column', () => {
    const config = parseConfig(
      `${MINIMAL}
[exports.columns]
lang = "text"
browser = { path = "user_agent.browser", type = "text" }
`,
      'export.toml',
    );
    expect(config.exports[0]?.columns).toEqual({ lang: { type: 'text' }, browser: { path: 'user_agent.browser', type: 'text' } });
  });

  it('names the path of a wrong column type, in the shorthand as in the table form', () => {
    const text = `
[[exports]]
name = "a"
destination = { kind = "duckdb", path = "a.duckdb" }

[[exports]]
name = "b"
destination = { kind = "duckdb", path = "b.duckdb" }
[exports.columns]
lang = "strng"
browser = { path = "user_agent.browser", type = "txt" }
`;
    expect(problems(text)).toEqual([
      'export.toml: exports[1].columns.lang: unknown type "strng" (one of text, bigint, double, boolean, timestamptz, json)',
      'export.toml: exports[1].columns.browser.type: unknown type "txt" (one of text, bigint, double, boolean, timestamptz, json)',
    ]);
  });

  it('reports every mistake at once, one line each', () => {
    const text = `
source = { url = "ftp://example.com" }

[[exports]]
name = "Web"
infer = "yes"
destination = { kind = "duckdb", path = "a.duckdb", tabel = "t" }
batch = { max_delay = "1 sec" }
[exports.columns]
at = "text"

[[exports]]
destination = { kind = "duck" }

[[exports]]
name = "c"
destination = { kind = "files" }
`;
    expect(problems(text)).toEqual([
      'export.toml: source.url: must be an http:// or https:// URL, e.g. "http://127.0.0.1:3000"',
      'export.toml: exports[0].name: name must be lowercase letters, digits and _, starting with a letter',
      'export.toml: exports[0].destination.tabel: unknown key',
      'export.toml: exports[0].columns.at: "at" is one of the columns every table has (_id, timestamp, at, extra)',
      'export.toml: exports[0].infer: expected boolean, not "yes"',
      'export.toml: exports[0].batch.max_delay: not a duration: "1 sec" (a whole number and a unit: ms, s, m, h or d, e.g. "1s", "15m", "1h")',
      'export.toml: exports[1].name: missing (expected string)',
      'export.toml: exports[1].destination.kind: unknown destination kind "duck" (one of files, duckdb, postgres)',
      'export.toml: exports[2].destination.dir: missing (expected string)',
    ]);
  });

  it('refuses two jobs of one name, or loading into the same place', () => {
    const text = `${MINIMAL}
[[exports]]
name = "web"
destination = { kind = "duckdb", path = "other.duckdb" }

[[exports]]
name = "copy"
destination = { kind = "duckdb", path = "web.duckdb", table = "web" }
`;
    expect(problems(text)).toEqual([
      'export.toml: exports[1].name: "web" is the name of exports[0] too',
      expect.stringMatching(/^export\.toml: exports\[2\]\.destination: exports\[0\] loads into the same place \(duckdb .*web\.duckdb table web\)$/),
    ]);
  });

  it('refuses a time range that holds nothing', () => {
    expect(problems(`${MINIMAL}filter = { from = "2026-02-01", to = "2026-01-31" }\n`)).toEqual([
      'export.toml: exports[0].filter: from (2026-02-01T00:00:00.000Z) is after to (2026-01-31T23:59:59.999Z): the job would export nothing',
    ]);
  });

  it('refuses a config with no export', () => {
    expect(problems('exports = []')).toEqual(['export.toml: exports: no export: add at least one [[exports]] table']);
    expect(problems('')).toEqual(['export.toml: exports: missing (expected array)']);
  });

  it('gives the line and column of a TOML syntax error', () => {
    expect(problems('[[exports]]\nname = "web\n')).toEqual([expect.stringMatching(/^export\.toml:2:\d+: TOML syntax error: .+$/)]);
  });

  it('says so when the file is missing or not a file', async () => {
    await expect(loadConfig(join(dir, 'nope.toml'))).rejects.toThrow(new ConfigError([`${join(dir, 'nope.toml')}: no such file (the export's config: see docs/export.md)`]));
    await mkdir(join(dir, 'sub'));
    await expect(loadConfig(join(dir, 'sub'))).rejects.toThrow(/is a directory/);
  });
});
