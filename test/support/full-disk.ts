import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorBodySchema, IngestResponseSchema, RangeResponseSchema, Routes } from 'kpiggybank-client/wire';
import { expect } from 'vitest';

// A file system that fills while LevelDB writes: a small tmpfs, filled by a file and freed again.

/**
 * A fresh 20 MB tmpfs, or why none could be mounted: tmpfs needs mount(2) (root, or
 * CAP_SYS_ADMIN), and a test that needs one is skipped where that is refused.
 */
export async function mountTmpfs(prefix: string): Promise<{ mountPoint: string; refused: string | undefined }> {
  const mountPoint = await mkdtemp(path.join(tmpdir(), prefix));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=20m', 'tmpfs', mountPoint], { stdio: 'pipe' });
    return { mountPoint, refused: undefined };
  } catch (error) {
    await rm(mountPoint, { recursive: true });
    return { mountPoint, refused: `cannot mount a tmpfs here: ${(error as { stderr?: Buffer }).stderr?.toString().trim() || String(error)}` };
  }
}

export async function unmountTmpfs(mountPoint: string): Promise<void> {
  execFileSync('umount', [mountPoint]);
  await rm(mountPoint, { recursive: true, force: true });
}

/** Fills the file system but for 4 MB: LevelDB's write buffer fills first, and the table it flushes to does not fit. */
export async function fillAllBut4Mb(mountPoint: string, file: string): Promise<void> {
  const { bavail, bsize } = await statfs(mountPoint);
  await writeFile(file, new Uint8Array(bavail * bsize - 4 * 1024 * 1024));
}

function post(url: string, blobs: object[]): Promise<Response> {
  return fetch(`${url}${Routes.blobs}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(blobs) });
}

export async function expectStoreUnavailable(res: Response): Promise<void> {
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('5');
  expect(ErrorBodySchema.parse(await res.json()).error).toBe('store_unavailable');
}

/** POSTs batches of 20 ~1 KB blobs until one is refused: the ids acknowledged before, and the refusal. */
export async function postUntilRefused(url: string): Promise<{ acknowledged: string[]; refused: Response | undefined }> {
  const pad = 'x'.repeat(1000);
  const acknowledged: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const res = await post(
      url,
      Array.from({ length: 20 }, (_, k) => ({ timestamp: 1_700_000_000 + i, k, pad })),
    );
    if (res.status !== 201) return { acknowledged, refused: res };
    acknowledged.push(...IngestResponseSchema.parse(await res.json()).ids);
  }
  return { acknowledged, refused: undefined };
}

/** POSTs until one gets 201 (the store has recovered); fails after `ms`. */
export async function postUntilStored(url: string, blob: object, ms: number): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const res = await post(url, [blob]);
    if (res.status === 201) return IngestResponseSchema.parse(await res.json()).ids;
    await expectStoreUnavailable(res); // until then, 503 and never anything else
    if (Date.now() > deadline) throw new Error(`the store did not take a write within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function storedIds(url: string): Promise<Set<string>> {
  const blobs = RangeResponseSchema.parse(await (await fetch(`${url}${Routes.blobs}?shape=blobs`)).json());
  return new Set(blobs.map((blob) => blob._id));
}
