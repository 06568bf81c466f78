// A config file in TOML (the export's config, the event schema), checked by a zod schema. Every
// mistake is one line naming where it is — the file and line for a TOML syntax error, the key's
// path for a value — and all of them are told at once, so a file is fixed in one round.
import { readFile } from 'node:fs/promises';
import { parse, TomlError } from 'smol-toml';
import type { z } from 'zod';

/** A config file could not be read or is wrong: `problems` are the lines to print, one per mistake. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

/** `exports[1].columns.lang`, as the user would look for it in the file. */
function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) text += text === '' ? key : `.${key}`;
    else text += `[${JSON.stringify(String(key))}]`;
  }
  return text;
}

/** Wording for what the schema leaves to zod: a missing key, a value of the wrong type. */
const wording: z.core.$ZodErrorMap = (issue) => {
  if (issue.code !== 'invalid_type') return undefined;
  if (issue.input === undefined) return `missing (expected ${issue.expected})`;
  return `expected ${issue.expected}, not ${describe(issue.input)}`;
};

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return `the date ${value.toISOString()}`;
  if (typeof value === 'object' && value !== null) return 'a table';
  return JSON.stringify(value) ?? String(value);
}

/** The value at `path` in the parsed document, to tell `lang = "strng"` from `lang = { type = "strng" }`. */
function valueAt(document: unknown, path: readonly PropertyKey[]): unknown {
  let value = document;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** One line per mistake, each with its path. */
function problemsOf(error: z.ZodError, document: unknown): string[] {
  const lines: string[] = [];
  for (const issue of error.issues) {
    let path = issue.path;
    // `lang = "strng"` is read as { type = "strng" }: the user wrote no `type` key
    if (path.at(-1) === 'type' && typeof valueAt(document, path.slice(0, -1)) === 'string') path = path.slice(0, -1);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${formatPath([...path, key])}: unknown key`);
    } else if (issue.code === 'invalid_key' && issue.issues[0] !== undefined) {
      lines.push(`${formatPath(path)}: ${issue.issues[0].message}`);
    } else {
      lines.push(path.length === 0 ? issue.message : `${formatPath(path)}: ${issue.message}`);
    }
  }
  return lines;
}

/** A TOML syntax error in one line: where, and smol-toml's first line of why. */
function syntaxProblem(file: string, error: TomlError): string {
  const why = error.message.split('\n')[0]?.replace(/^Invalid TOML document: /, '') ?? 'invalid TOML';
  return `${file}:${error.line}:${error.column}: TOML syntax error: ${why}`;
}

/** Checks a file's text (TOML) against `schema`; `file` names it in messages. */
export function parseTomlFile<T>(text: string, file: string, schema: z.ZodType<T, unknown>): T {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    if (error instanceof TomlError) throw new ConfigError([syntaxProblem(file, error)]);
    throw error;
  }
  const result = schema.safeParse(document, { error: wording });
  if (!result.success) throw new ConfigError(problemsOf(result.error, document).map((line) => `${file}: ${line}`));
  return result.data;
}

/** The file's text; a missing or unreadable file as a ConfigError (`what` says what the file is for). */
export async function readTomlFile(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError([`${file}: no such file (${what})`]);
    if (code === 'EISDIR') throw new ConfigError([`${file}: is a directory, not a config file`]);
    throw new ConfigError([`${file}: cannot read it: ${(error as Error).message}`]);
  }
}
