// The load test starts PouchDB Server too; tests use the same code.
export { freePort } from '../../src/loadtest/free-port.js';
export { startPouchDbServer, type RunningCouch } from '../../src/loadtest/pouchdb-server.js';
