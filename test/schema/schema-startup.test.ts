import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Routes } from 'kpiggybank-client/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer } from '../support/server-process.js';

// SCHEMA_FILE as `npm start` reads it: a bad or missing file stops the start (exit 2, a line per
// mistake naming its path, no stack); a good one is checked on every POST.

const EXAMPLE = fileURLToPath(new URL('../../examples/browserid-signin.schema.toml', import.meta.url));

describe('SCHEMA_FILE at start', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-schema-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a schema with three mistakes: the service does not start, exit 2, one line for each with its path', async () => {
    const file = path.join(dir, 'bad.schema.toml');
    await writeFile(
      file,
      ['untyped = "maybe"', '[[types]]', 'name = "signin"', '[types.fields]', 'lang = { type = "strng" }', 'number_emails = { type = "integer", max_length = 3 }', ''].join('\n'),
    );
    const server = await spawnServer({ DB_BACKEND: 'memory', SCHEMA_FILE: file });
    await expect(server.ready).rejects.toThrow();
    expect(await server.exited).toBe(2);
    const lines = server.output().trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^kpiggybank: SCHEMA_FILE ${file}: untyped: .*reject.*accept`)),
      `kpiggybank: SCHEMA_FILE ${file}: types[0].fields.lang.type: unknown type "strng": one of string, integer, number, boolean, timestamp, enum, array, object, json`,
      `kpiggybank: SCHEMA_FILE ${file}: types[0].fields.number_emails.max_length: only a field of type string takes max_length`,
    ]);
  });

  it('a file that is not there: exit 2, one line naming it', async () => {
    const file = path.join(dir, 'missing.toml');
    const server = await spawnServer({ DB_BACKEND: 'memory', SCHEMA_FILE: file });
    expect(await server.exited).toBe(2);
    expect(server.output()).toBe(`kpiggybank: SCHEMA_FILE ${file}: no such file (the event schema SCHEMA_FILE names: see docs/schema.md)\n`);
  });

  it('the example schema: the service starts and refuses a blob that breaks it', async () => {
    const server = await spawnServer({ DB_BACKEND: 'memory', SCHEMA_FILE: EXAMPLE });
    try {
      const url = await server.ready;
      const res = await fetch(`${url}${Routes.blobs}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ timestamp: 1, numbr_emails: 2 }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'schema_violation', path: 'lang', expected: 'present (required)' });
    } finally {
      await server.stop();
    }
  });
});
