import { spawnSync } from 'node:child_process';
import { appendFile, cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

/** `npm run depcheck`'s command in `dir`: its exit status and what it printed. */
function depcheck(dir: string): { status: number | null; output: string } {
  const run = spawnSync(path.join(root, 'node_modules/.bin/depcruise'), ['src', 'client/src', 'web/src', '--config', '.dependency-cruiser.cjs'], { cwd: dir, encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr };
}

// The check in npm test (docs/architecture.md), on a copy of the tree given wrong-way imports.
describe('the dependency rules', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-depcheck-'));
    for (const entry of ['src', 'web', '.dependency-cruiser.cjs', 'package.json', 'tsconfig.json', 'tsconfig.base.json'])
      await cp(path.join(root, entry), path.join(dir, entry), { recursive: true });
    await symlink(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
    await symlink(path.join(root, 'client'), path.join(dir, 'client'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('pass on the tree as it is, and fail naming each wrong-way import', async () => {
    expect(depcheck(dir)).toMatchObject({ status: 0 });
    await appendFile(path.join(dir, 'src/store/memory/memory-store.ts'), "\nimport '../../http/http-error.js';\n");
    await appendFile(path.join(dir, 'src/ingest/validate.ts'), "\nimport '../store/leveldb/leveldb-store.js';\n");
    const { status, output } = depcheck(dir);
    expect(status).not.toBe(0);
    expect(output).toMatch(/store-imports-nothing-above-it: src\/store\/memory\/memory-store\.ts → src\/http\/http-error\.ts/);
    expect(output).toMatch(/only-create-store-imports-a-backend: src\/ingest\/validate\.ts → src\/store\/leveldb\/leveldb-store\.ts/);
  });
});
