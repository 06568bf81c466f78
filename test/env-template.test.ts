import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EnvSchema } from '../src/config.js';

const template = fileURLToPath(new URL('../env.sh.dist', import.meta.url));
const text = readFileSync(template, 'utf8');
/** `# export NAME=value` lines: the variables the template shows, with the value it shows. */
const shown = new Map([...text.matchAll(/^# export ([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
const schema = EnvSchema.shape as Record<string, (typeof EnvSchema.shape)[keyof typeof EnvSchema.shape]>;

describe('env.sh.dist', () => {
  it('is all comments: copying and sourcing it changes nothing', () => {
    const lines = text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
    expect(lines).toEqual([]);
    const env = (script: string) => execFileSync('env', ['-i', 'bash', '-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const before = env('set -a; env');
    const after = env(`set -a; source ${JSON.stringify(template)}; env`);
    expect(after).toBe(before);
  });

  it('shows every variable the configuration reads, and nothing else', () => {
    expect([...shown.keys()].sort()).toEqual(Object.keys(schema).sort());
  });

  it.each(Object.keys(schema))('shows %s at its default, where it has one', (name) => {
    const field = schema[name]!;
    const fallback = field.safeParse(undefined);
    const value = shown.get(name);
    expect(value).toBeDefined();
    // An empty value counts as unset (loadConfig), so it shows the default too.
    const parsed = field.safeParse(value === '' ? undefined : value);
    expect(parsed.success, `${name}=${value} is not accepted`).toBe(true);
    if (fallback.success && fallback.data !== undefined) expect(parsed.data, `${name}=${value}`).toEqual(fallback.data);
  });
});
