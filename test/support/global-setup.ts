import type { TestProject } from 'vitest/node';
import { startPouchDbServer } from '../../harness/pouchdb-server.js';
import { buildDist } from './build-dist.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The CouchDB-protocol server the couchdb-store tests use, credentials included if any. */
    couchUrl: string;
  }
}

/** dist/ built first (see buildDist); COUCHDB_URL points the tests at a real CouchDB 3; otherwise PouchDB Server runs in memory. */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  await buildDist();
  const given = process.env.COUCHDB_URL;
  if (given) {
    project.provide('couchUrl', given);
    return undefined;
  }
  const server = await startPouchDbServer();
  project.provide('couchUrl', server.url);
  return () => server.stop();
}
