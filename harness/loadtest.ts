// `npm run loadtest` in a checkout: the built `kpiggybank loadtest`, given a PouchDB Server to load
// when it is asked for --backend couchdb without COUCHDB_URL (a deployment sets COUCHDB_URL; this
// checkout has PouchDB Server among its devDependencies). Its arguments go to the CLI unchanged.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { exitOnTermination, killOnExit } from '../src/loadtest/kill-on-exit.js';
import { startPouchDbServer, type RunningCouch } from './pouchdb-server.js';

const CLI = fileURLToPath(new URL('../dist/cli/kpiggybank.js', import.meta.url));
const args = process.argv.slice(2);
const backendAt = args.indexOf('--backend');
const backend = backendAt >= 0 ? args[backendAt + 1] : args.find((arg) => arg.startsWith('--backend='))?.slice('--backend='.length);
const wantsCouch = backend === 'couchdb' && !args.some((arg) => arg === '--url' || arg.startsWith('--url=')) && !process.env.COUCHDB_URL;

exitOnTermination(); // SIGTERM reaches the CLI (which stops its service) and PouchDB Server through the exit hooks
let couch: RunningCouch | undefined;
if (wantsCouch) couch = await startPouchDbServer();
const cli = spawn(process.execPath, [CLI, 'loadtest', ...args], {
  stdio: 'inherit',
  env: { ...process.env, ...(couch && { COUCHDB_URL: couch.url }) },
});
killOnExit(cli, 'SIGTERM');
const code = await new Promise<number>((resolve) => cli.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal === 'SIGTERM' ? 143 : 1))));
await couch?.stop();
process.exit(code);
