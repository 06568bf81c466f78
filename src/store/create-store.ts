import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { CouchDbStore } from './couchdb/couchdb-store.js';
import { DummyStore } from './dummy/dummy-store.js';
import { LevelDbStore } from './leveldb/leveldb-store.js';
import { MemoryStore } from './memory/memory-store.js';
import type { Store } from './store.js';

/** The one place that knows the backends; everything else holds a Store. */
export function createStore(config: Config, logger: Logger): Store {
  switch (config.backend) {
    case 'couchdb':
      return new CouchDbStore({
        connection: config.couch,
        dbName: config.dbName,
        groupCommit: config.groupCommit,
        timeoutMs: config.storeTimeoutMs,
        legacyViews: config.couchLegacyViews,
        writeQuorum: config.couchWriteQuorum,
      });
    case 'leveldb':
      if (config.backendAlias === 'pouchdb')
        logger.warn(
          'DB_BACKEND=pouchdb is now the leveldb backend (a pouchdb store in DATA_DIR is moved over on first start): set DB_BACKEND=leveldb, or leave it unset, to drop this notice',
        );
      return new LevelDbStore({ dataDir: config.dataDir, dbName: config.dbName, groupCommit: config.groupCommit, logger });
    case 'memory':
      logger.warn('DB_BACKEND=memory: nothing persists; every blob is lost when the process stops');
      return new MemoryStore();
    case 'dummy':
      return new DummyStore(logger);
  }
}
