// `kpiggybank schema sql`'s command line: --help, the statements for one type or all, and each
// mistake in one line with its exit code (what the statements do in a database is
// signin-schema.test.ts's).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStackTrace, runCli } from '../support/cli.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/browserid-signin.schema.toml', import.meta.url));

describe('kpiggybank schema sql', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'schema-sql-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const file = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };

  it('--help says what it prints and its exit codes', async () => {
    const run = await runCli(['schema', 'sql', '--help']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^usage: kpiggybank schema sql --dialect postgres\|duckdb /);
    for (const text of ['--dialect', '--schema', 'SCHEMA_FILE', '--type', 'Exit status']) expect(run.stdout).toContain(text);
  });

  it('prints a CREATE TABLE per type, named after it, or only --type’s', async () => {
    const two = await file(
      'two.toml',
      '[[types]]\nname = "signin"\nwhen = { field = "event", value = "in" }\nfields = { lang = { type = "string", max_length = 8, required = true } }\n\n' +
        '[[types]]\nname = "signout"\nwhen = { field = "event", value = "out" }\nfields = { why = "string" }\n',
    );
    const all = await runCli(['schema', 'sql', '--dialect', 'postgres', '--schema', two]);
    expect(all).toMatchObject({ code: 0, stderr: '' });
    const fixed = '"_id" text NOT NULL, "timestamp" bigint NOT NULL, "at" timestamptz NOT NULL, "extra" jsonb';
    expect(all.stdout).toBe(
      `CREATE TABLE IF NOT EXISTS "signin" (${fixed}, "lang" varchar(8) NOT NULL) PARTITION BY RANGE ("at");\n` +
        `CREATE TABLE IF NOT EXISTS "signout" (${fixed}, "why" text) PARTITION BY RANGE ("at");\n`,
    );
    const one = await runCli(['schema', 'sql', '--dialect', 'duckdb', '--type', 'signout'], { env: { SCHEMA_FILE: two } });
    expect(one).toEqual({
      code: 0,
      stdout: 'CREATE TABLE IF NOT EXISTS "signout" ("_id" VARCHAR NOT NULL, "timestamp" BIGINT NOT NULL, "at" TIMESTAMPTZ NOT NULL, "extra" JSON, "why" VARCHAR);\n',
      stderr: '',
    });
  });

  it('a bad option, a missing schema or an unknown type: one line naming it, then the usage, exit 2', async () => {
    const cases: [string[], string][] = [
      [['schema'], 'which schema command'],
      [['schema', 'sql', '--schema', EXAMPLE], 'which dialect'],
      [['schema', 'sql', '--dialect', 'mysql', '--schema', EXAMPLE], '"mysql"'],
      [['schema', 'sql', '--dialect', 'duckdb'], 'SCHEMA_FILE'],
      [['schema', 'sql', '--dialect', 'duckdb', '--schema', EXAMPLE, '--type', 'signon'], 'declares no event type "signon" (it declares "signin")'],
      [['schema', 'sql', '--dialect', 'duckdb', '--bogus'], '--bogus'],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args)));
    runs.forEach((run, i) => {
      const [args, named] = cases[i] as [string[], string];
      const label = args.join(' ');
      expect(run.code, label).toBe(2);
      expect(run.stdout, label).toBe('');
      const [line, ...rest] = run.stderr.split('\n');
      expect(line, label).toContain(named);
      expect(rest.join('\n').trimStart(), label).toMatch(/^usage: kpiggybank schema/);
      expect(hasStackTrace(run.stderr), label).toBe(false);
    });
  });

  it("a schema file's mistakes are a line each (exit 2); a type whose fields would be one column is one line (exit 1)", async () => {
    const bad = await runCli(['schema', 'sql', '--dialect', 'postgres', '--schema', await file('bad.toml', '[[types]]\nname = "t"\nfields = { n = "integr" }\n')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^kpiggybank schema: .*bad\.toml: types\[0\]\.fields\.n(\.type)?: unknown type "integr"/);
    const clash = await runCli([
      'schema',
      'sql',
      '--dialect',
      'postgres',
      '--schema',
      await file('clash.toml', '[[types]]\nname = "t"\nfields = { a_b = "string", a = { type = "object", fields = { b = "integer" } } }\n'),
    ]);
    expect(clash).toEqual({ code: 1, stdout: '', stderr: 'kpiggybank schema: event type "t": field a.b would be the column a_b, which is field a_b\'s already: rename one\n' });
    expect(hasStackTrace(bad.stderr + clash.stderr)).toBe(false);
  });
});
