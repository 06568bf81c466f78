import { startService as startBuiltService, type Backend, type RunningService, type ServiceOptions } from '../src/loadtest/service.js';
import { startPouchDbServer } from './pouchdb-server.js';

export type { Backend, RunningService };

/**
 * The load test's service starter (src/loadtest/service.ts), which a checkout's tools use with
 * one convenience more: couchdb without a COUCHDB_URL runs on a PouchDB Server started for it.
 */
export async function startService(backend: Backend, options: ServiceOptions = {}): Promise<RunningService> {
  if (backend !== 'couchdb' || options.couchdbUrl) return startBuiltService(backend, options);
  const couch = await startPouchDbServer();
  try {
    const service = await startBuiltService(backend, { ...options, couchdbUrl: couch.url });
    return {
      ...service,
      async stop() {
        await service.stop();
        await couch.stop();
      },
    };
  } catch (error) {
    await couch.stop();
    throw error;
  }
}
