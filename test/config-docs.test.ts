import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_DOCS_PATH, renderConfigDocs } from '../scripts/config-docs.js';
import { EnvSchema } from '../src/config.js';

const read = (relative: string) => readFileSync(fileURLToPath(new URL(relative, import.meta.url)), 'utf8');

describe('docs/configuration.md', () => {
  it('is what npm run docs:config writes from the settings schema (run it after changing src/config.ts)', () => {
    expect(readFileSync(CONFIG_DOCS_PATH, 'utf8')).toBe(renderConfigDocs());
  });

  it('documents every variable env.sh.dist shows', () => {
    const page = renderConfigDocs();
    const shown = [...read('../env.sh.dist').matchAll(/^# export ([A-Z_]+)=/gm)].map((m) => m[1]!);
    expect(shown.length).toBeGreaterThan(30);
    expect(shown.filter((name) => !page.includes(`- **\`${name}\`**`))).toEqual([]);
  });

  it("names in the README's settings table only variables the service reads", () => {
    const rows = [...read('../README.md').matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]!);
    expect(rows.length).toBe(10);
    expect(rows.filter((name) => !(name in EnvSchema.shape))).toEqual([]);
  });
});

describe('README.md', () => {
  it('gives, as commands to copy, the install and test commands CI runs', () => {
    const ci = read('../.ci/run').split('\n');
    expect(ci).toContain('npm install');
    expect(ci).toContain('npm test');
    const blocks = [...read('../README.md').matchAll(/^```sh\n([^`]*)^```$/gm)].map((m) => m[1]!.split('\n'));
    expect(blocks.some((lines) => lines.includes('npm install && npm start'))).toBe(true);
    expect(blocks.some((lines) => lines.includes('npm test'))).toBe(true);
  });
});
