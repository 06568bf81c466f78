import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { StoreBackend } from '../../src/store/backends.js';
import { couchServer, dropCouchDb } from '../../harness/couchdb.js';
import { startPouchDbServer, type RunningCouch } from '../../harness/pouchdb-server.js';
import { startService, type Running } from './processes.js';

export { STORE_BACKENDS as BACKENDS } from '../../src/store/backends.js';
export type Backend = StoreBackend;

/**
 * Starts services on a fresh store each time: a new DATA_DIR for leveldb, a new database for
 * couchdb (COUCHDB_URL, else one PouchDB Server in memory for the whole run), deleted after.
 */
export class Backends {
  private couch: RunningCouch | undefined;
  private databases = 0;

  /** `entry`: the server script to run, e.g. an older build to compare with. */
  constructor(private readonly entry = 'dist/server.js') {}

  async couchUrl(): Promise<string> {
    if (process.env.COUCHDB_URL) return process.env.COUCHDB_URL;
    this.couch ??= await startPouchDbServer();
    return this.couch.url;
  }

  /** The service on `backend`, in prod mode (warnings only) unless `env` says otherwise. */
  async start(backend: Backend, env: Record<string, string> = {}): Promise<Running> {
    const dbName = `kpiggybank_bench_${process.pid}_${++this.databases}`;
    const dataDir = backend === 'leveldb' ? await mkdtemp(path.join(tmpdir(), 'kpiggybank-bench-')) : undefined;
    const couchUrl = backend === 'couchdb' ? await this.couchUrl() : undefined;
    const service = await startService(
      {
        DB_BACKEND: backend,
        DB_NAME: dbName,
        MODE: 'prod',
        ...(dataDir && { DATA_DIR: dataDir }),
        ...(couchUrl && { COUCHDB_URL: couchUrl }),
        ...env,
      },
      this.entry,
    );
    const stop = service.stop;
    service.stop = async () => {
      await stop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
      if (couchUrl) await Promise.all([dbName, `${dbName}-claims`].map((db) => dropCouchDb(couchServer(couchUrl), db)));
    };
    return service;
  }

  async close(): Promise<void> {
    await this.couch?.stop();
  }
}
