import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_DOCS_PATH, renderConfigDocs } from '../scripts/config-docs.js';

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
});
