import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exitCodeFor, parseBenchOptions, UsageError } from '../bench/lib/options.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bench = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { cwd: root, encoding: 'utf8' });

describe('npm run bench: options', () => {
  it('writes no file unless asked: by default the results go to stdout only', () => {
    const options = parseBenchOptions([]);
    expect(options.json).toBeUndefined();
    expect(options.markdown).toBeUndefined();
    expect(parseBenchOptions(['--json', 'out.json', '--markdown', 'out.md'])).toMatchObject({ json: 'out.json', markdown: 'out.md' });
  });

  it.each([
    [['--bogus'], /unknown option '--bogus'/],
    [['--only', 'single,nope'], /unknown scenario: nope/],
    [['--backend', 'mysql'], /unknown backend: mysql/],
    [['--seconds', 'x'], /--seconds must be a positive number/],
    [['--connections', '0'], /--connections must be a positive integer/],
    [['--append'], /--append needs --json/],
    [['--json'], /--json/],
  ])('refuses %j in one line', (args, message) => {
    expect(() => parseBenchOptions(args)).toThrow(UsageError);
    expect(() => parseBenchOptions(args)).toThrow(message);
  });

  it('exits 1 when a target is missed, 0 when every target is met', () => {
    expect(exitCodeFor([{ met: true }, {}])).toBe(0);
    expect(exitCodeFor([{ met: true }, { met: false }])).toBe(1);
  });

  it('answers --help, and names a bad option in one line with exit 2 and no stack', () => {
    const help = bench('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--only/);
    expect(help.stdout).toMatch(/--json FILE/);
    const bad = bench('--only', 'nope');
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')[0]).toMatch(/^bench: unknown scenario: nope/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});
