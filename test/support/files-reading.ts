// Reading a files destination's folder back as an analyst would: every part file (not `_`-named
// ones), gunzipped when .gz, with its path relative to the folder.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

/** The bytes as a Uint8Array (@types/node 20's Buffer is not one to TypeScript 7's lib). */
export function view(bytes: Buffer): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export async function partFiles(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (folder: string): Promise<void> => {
    for (const entry of (await readdir(path.join(dir, folder), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('_')) continue;
      const relative = folder === '' ? entry.name : `${folder}/${entry.name}`;
      if (entry.isDirectory()) await walk(relative);
      else {
        const bytes = await readFile(path.join(dir, relative));
        files.set(relative, (entry.name.endsWith('.gz') ? gunzipSync(view(bytes)) : bytes).toString('utf8'));
      }
    }
  };
  await walk('');
  return files;
}

/** The `_id` of every NDJSON line of every part, in file order. */
export async function ndjsonIds(dir: string): Promise<string[]> {
  const ids: string[] = [];
  for (const text of (await partFiles(dir)).values()) for (const line of text.split('\n')) if (line !== '') ids.push((JSON.parse(line) as { _id: string })._id);
  return ids;
}
