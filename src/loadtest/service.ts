import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { StoreBackend } from '../store/backends.js';
import { processMemory } from './proc-status.js';
import { spawnService } from './service-process.js';

/** What the load test can start: a backend that keeps blobs (dummy serves canned ones, so none would come back). */
export type Backend = StoreBackend;

export interface RunningService {
  url: string;
  pid: number;
  /** The process's peak resident memory so far (the kernel's high-water mark; Linux), in MiB. */
  peakRssMiB(): Promise<number | undefined>;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** COUCHDB_URL, for couchdb: a fresh database is made there for the run. */
  couchdbUrl?: string | undefined;
  /** More environment for the service (tokens, LOG_LEVEL, …). */
  env?: Record<string, string> | undefined;
  /** Flags for node itself, e.g. `--max-old-space-size=128`. */
  nodeArgs?: readonly string[] | undefined;
}

/**
 * The built service in a process of its own (so that the load and the service do not share an
 * event loop), on a fresh store: a temporary DATA_DIR (leveldb), or for couchdb a fresh database
 * on `couchdbUrl`. Starting a CouchDB is not the load test's business: a checkout's
 * `npm run loadtest` and the benchmarks start PouchDB Server for it (harness/), a deployment
 * points COUCHDB_URL at its CouchDB.
 */
export async function startService(backend: Backend, { couchdbUrl, env = {}, nodeArgs = [] }: ServiceOptions = {}): Promise<RunningService> {
  if (backend === 'couchdb' && !couchdbUrl) {
    throw new Error(
      '--backend couchdb loads the CouchDB that COUCHDB_URL names, and it is not set: set it, or run `npm run loadtest -- --backend couchdb` in a checkout, which starts PouchDB Server (a devDependency) for the run',
    );
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-loadtest-'));
  const service = await spawnService({
    env: {
      DB_BACKEND: backend,
      DATA_DIR: dir,
      DB_NAME: `kpiggybank_loadtest_${Date.now()}`,
      COUCHDB_URL: couchdbUrl ?? '',
      // as deployed: MODE=prod logs warnings and errors, not a line per request
      MODE: 'prod',
      ...(process.env.LOG_LEVEL && { LOG_LEVEL: process.env.LOG_LEVEL }),
      ...env,
    },
    nodeArgs,
    keepOutput: 16_384,
  });
  const pid = service.child.pid!;
  try {
    await service.ready;
  } catch (error) {
    await service.stop('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: service.url,
    pid,
    async peakRssMiB() {
      const { VmHWM } = await processMemory(pid, ['VmHWM']);
      return VmHWM > 0 ? Math.round(VmHWM / 2 ** 20) : undefined;
    },
    async stop() {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
