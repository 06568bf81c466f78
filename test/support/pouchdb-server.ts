// The load test starts PouchDB Server too; tests use the same code.
export { freePort, startPouchDbServer, type RunningCouch } from '../../src/loadtest/pouchdb-server.js';
