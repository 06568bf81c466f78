// PouchDB Server (devDependency `pouchdb-server`): the CouchDB-protocol server that tests and the load test start when no COUCHDB_URL is given.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';
import { killOnExit } from './kill-on-exit.js';

export interface RunningCouch {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Its executable, looked up when one is started: a production install has no devDependencies, and must load this module all the same. */
function pouchDbServerBin(): string {
  try {
    return path.join(path.dirname(createRequire(import.meta.url).resolve('pouchdb-server/package.json')), 'bin', 'pouchdb-server');
  } catch {
    throw new Error('PouchDB Server is a devDependency (pouchdb-server), not installed here (npm install --omit=dev): set COUCHDB_URL to a CouchDB, or install the devDependencies');
  }
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
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pouchdb-server exited with ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(url)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`pouchdb-server did not answer on ${url} within 20 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port: chosen,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      if (!dataDir) await rm(dir, { recursive: true, force: true });
    },
  };
}
