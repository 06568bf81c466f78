import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { killOnExit } from './kill-on-exit.js';
import { processMemory } from './proc-status.js';
import { freePort } from './free-port.js';
import type { RunningCouch } from './pouchdb-server.js';

export type Backend = 'memory' | 'leveldb' | 'couchdb';

export interface RunningService {
  url: string;
  pid: number;
  /** The process's peak resident memory so far (the kernel's high-water mark; Linux), in MiB. */
  peakRssMiB(): Promise<number | undefined>;
  stop(): Promise<void>;
}

interface ServiceOptions {
  /** COUCHDB_URL for couchdb; without it a PouchDB Server is started for the run. */
  couchdbUrl?: string | undefined;
  /** More environment for the service (tokens, LOG_LEVEL, …). */
  env?: Record<string, string> | undefined;
  /** Flags for node itself, e.g. `--max-old-space-size=128`. */
  nodeArgs?: readonly string[] | undefined;
}

// The built server, from src/loadtest (benchmarks run through tsx) as from dist/loadtest
const SERVER = fileURLToPath(new URL('../../dist/server.js', import.meta.url));

/**
 * The service in a process of its own (so that the load and the service do not share an event
 * loop), on a fresh store: a temporary DATA_DIR (leveldb), or for couchdb a fresh database on
 * `couchdbUrl`, or on a PouchDB Server started for the run when none is given.
 */
export async function startService(backend: Backend, { couchdbUrl, env = {}, nodeArgs = [] }: ServiceOptions = {}): Promise<RunningService> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-loadtest-'));
  let couch: RunningCouch | undefined;
  // imported only when needed: PouchDB Server is a devDependency, absent from a production install
  if (backend === 'couchdb' && !couchdbUrl) couch = await (await import('./pouchdb-server.js')).startPouchDbServer();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...nodeArgs, SERVER], {
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      DB_BACKEND: backend,
      DATA_DIR: dir,
      DB_NAME: `kpiggybank_loadtest_${Date.now()}`,
      COUCHDB_URL: couchdbUrl ?? couch?.url ?? '',
      // as deployed: MODE=prod logs warnings and errors, not a line per request
      MODE: 'prod',
      ...(process.env.LOG_LEVEL && { LOG_LEVEL: process.env.LOG_LEVEL }),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  killOnExit(child);
  let stderr = '';
  // the tail only, for the error message: a long run must not grow the generator's memory
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-16_384)));
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
    async peakRssMiB() {
      const { VmHWM } = await processMemory(child.pid!, ['VmHWM']);
      return VmHWM > 0 ? Math.round(VmHWM / 2 ** 20) : undefined;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await cleanup();
    },
  };
}
