import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startPouchDbServer, type RunningCouch } from './pouchdb-server.js';

export type Backend = 'memory' | 'pouchdb' | 'couchdb';

export interface RunningService {
  url: string;
  /** The server's process id, to read its memory. */
  pid: number;
  stop(): Promise<void>;
}

const SERVER = fileURLToPath(new URL('../server.js', import.meta.url));

/**
 * The service in a process of its own (so that the load and the service do not share an event
 * loop), on a fresh store: a temporary PouchDB folder, or for couchdb a fresh database on
 * `couchdbUrl`, or on a PouchDB Server started for the run when none is given.
 */
export async function startService(backend: Backend, couchdbUrl?: string): Promise<RunningService> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-loadtest-'));
  let couch: RunningCouch | undefined;
  if (backend === 'couchdb' && !couchdbUrl) couch = await startPouchDbServer();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [SERVER], {
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      DB_BACKEND: backend,
      DATA_DIR: dir,
      DB_NAME: `kpiggybank_loadtest_${Date.now()}`,
      COUCHDB_URL: couchdbUrl ?? couch?.url ?? '',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cleanup = async () => {
    await couch?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await cleanup();
      throw new Error(`the service exited with ${child.exitCode} before it was ready:\n${stderr}`);
    }
    if (await fetch(`${url}/readyz`).then((res) => res.ok, () => false)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await cleanup();
      throw new Error(`the service was not ready on ${url} within 30 s:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await cleanup();
    },
  };
}
