// PouchDB Server (devDependency `pouchdb-server`): the CouchDB-protocol server that the tests, the
// benchmarks and a checkout's `npm run loadtest -- --backend couchdb` start when no COUCHDB_URL is given.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../src/loadtest/free-port.js';
import { killOnExit } from '../src/loadtest/kill-on-exit.js';
import { waitUntil } from '../src/loadtest/wait-until.js';

export interface RunningCouch {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Its executable, from node_modules. */
function pouchDbServerBin(): string {
  return path.join(path.dirname(createRequire(import.meta.url).resolve('pouchdb-server/package.json')), 'bin', 'pouchdb-server');
}

/**
 * PouchDB Server: a real CouchDB-protocol server over HTTP, started from node_modules. In memory,
 * unless `dataDir` is given: then its databases live there and outlive a restart.
 */
export async function startPouchDbServer(port?: number, dataDir?: string): Promise<RunningCouch> {
  const bin = pouchDbServerBin();
  const chosen = port ?? (await freePort());
  // It writes config.json and log.txt into its working directory: give it its own.
  const dir = dataDir ?? (await mkdtemp(path.join(tmpdir(), 'kpiggybank-pouchdb-server-')));
  const storage = dataDir ? ['--dir', dataDir] : ['--in-memory'];
  const child: ChildProcess = spawn(process.execPath, [bin, ...storage, '--host', '127.0.0.1', '--port', String(chosen), '--no-stdout-logs'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  killOnExit(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `http://127.0.0.1:${chosen}`;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    if (!dataDir) await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(
      () =>
        fetch(url).then(
          (res) => res.ok,
          () => false,
        ),
      { what: `pouchdb-server on ${url}`, timeoutMs: 20_000, child, detail: () => stderr },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port: chosen, stop };
}
