import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

// What a user of the published package runs: its built output, found through its `exports` map.
const SCRIPT = `
import { KpiggybankClient, KpiggybankHttpError } from 'kpiggybank-client';
import { RangeQuerySchema } from 'kpiggybank-client/wire';
import { KPIggyBank } from 'kpiggybank-client/legacy';
import { undiciHttp } from 'kpiggybank-client/undici';
const client = new KpiggybankClient(process.argv[1]);
const saved = await client.save({ timestamp: 42, from: 'plain esm' });
const undici = undiciHttp();
const overUndici = await new KpiggybankClient({ baseUrl: process.argv[1], http: undici.http }).count();
await undici.close();
const error = await client.save({}).catch((e) => e);
const api = new KPIggyBank(new URL(process.argv[1]).hostname, new URL(process.argv[1]).port);
const count = await new Promise((resolve, reject) => api.count((e, n) => (e ? reject(e) : resolve(n))));
console.log(JSON.stringify({ ids: saved.ids.length, count, overUndici, http: error instanceof KpiggybankHttpError, code: error.code, schema: typeof RangeQuerySchema.parse }));
`;

describe('the client package', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('memory');
  });
  afterAll(async () => {
    await t.close();
  });

  it('imports from its built output in a plain ESM Node script', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', SCRIPT, t.url], { cwd: root });
    expect(JSON.parse(stdout)).toEqual({ ids: 1, count: 1, overUndici: 1, http: true, code: 'invalid_blob', schema: 'function' });
  });

  it('declares types for every entry of its exports map', async () => {
    const pkg = JSON.parse(await readFile(`${root}/client/package.json`, 'utf8')) as { exports: Record<string, { types: string }> };
    for (const [entry, target] of Object.entries(pkg.exports)) {
      await expect(readFile(`${root}/client/${target.types}`, 'utf8'), entry).resolves.toMatch(/export/);
    }
  });
});
