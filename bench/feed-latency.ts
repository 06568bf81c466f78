// Change feed latency: N WebSocket subscribers, blobs POSTed one per request at a steady rate;
// for each blob and subscriber, the time from the POST's sending (and from its 201) to the change's
// arrival; and each POST's own time to its 201.   npm run bench:feed -- --help
// The first --warmup seconds run at the same rate and are not measured (the JIT's first second).
// couchdb uses COUCHDB_URL, else a PouchDB Server (in memory) started for the run.
import { Agent, request } from 'node:http';
import { WebSocket } from 'ws';
import { Routes } from 'kpiggybank-client/wire';
import { percentile } from '../src/loadtest/percentiles.js';
import { exitOnTermination } from '../src/loadtest/kill-on-exit.js';
import { startService, type Backend } from '../harness/service.js';
import { BACKENDS } from './lib/backends.js';
import { scriptArgs } from './lib/script-args.js';

const USAGE = `npm run bench:feed -- [options]
  N WebSocket subscribers of /wsapi/changes; blobs POSTed one per request at a steady, open-loop
  rate; prints as JSON the p50/p99/max from each POST's sending (and from its 201) to each
  subscriber's receipt of its change, and each POST's time to its 201. Writes no file.
  --backend NAME      ${BACKENDS.join(' | ')} (default memory); couchdb uses COUCHDB_URL, else a
                      PouchDB Server in memory started for the run
  --subscribers N     WebSocket subscribers (default 100)
  --rate N            blobs POSTed per second (default 1000)
  --seconds N         measured seconds (default 10)
  --warmup N          seconds at the same rate before, not measured (default 2)
  --help              this text`;

const options = {
  backend: { type: 'string', default: 'memory' },
  subscribers: { type: 'string', default: '100' },
  rate: { type: 'string', default: '1000' },
  seconds: { type: 'string', default: '10' },
  warmup: { type: 'string', default: '2' },
  help: { type: 'boolean', default: false },
} as const;
const { values, fail: usageError } = scriptArgs('feed', USAGE, options);
if (!BACKENDS.includes(values.backend as Backend)) usageError(`unknown backend: ${values.backend}`);
for (const name of ['subscribers', 'rate', 'seconds'] as const) {
  if (!(Number(values[name]) > 0)) usageError(`--${name} must be a positive number, not ${values[name]}`);
}
if (!(Number(values.warmup) >= 0)) usageError(`--warmup must be a number of seconds, not ${values.warmup}`);
const backend = values.backend;
const subscriberCount = Number(values.subscribers);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const warmupBlobs = Math.round(rate * Number(values.warmup));
const total = warmupBlobs + rate * seconds;

exitOnTermination(); // npm run bench ends this script with SIGTERM when it dies first: the service goes too
const server = await startService(backend as Backend, { couchdbUrl: process.env.COUCHDB_URL });
const { url } = server;

// By blob number (its `n`): performance.now() when its POST was sent, and when its 201 came (NaN: not yet, or failed).
const postedAt = new Float64Array(total);
const acknowledgedAt = new Float64Array(total).fill(Number.NaN);
let acknowledged = 0;
const fromPost: number[] = [];
const from201: number[] = []; // 0 where the change arrived before the 201 was read
const N_KEY = Buffer.from('"n":"');
/** The blob number in a change message, read from its bytes: this process takes 100,000 messages/s. */
function blobNumber(data: Buffer): number {
  const at = data.indexOf(N_KEY);
  if (at < 0) return -1;
  let n = 0;
  for (let i = at + N_KEY.length; i < data.length; i++) {
    const digit = data[i]! - 48;
    if (digit < 0 || digit > 9) break;
    n = n * 10 + digit;
  }
  return n;
}
let received = 0;
const sockets = await Promise.all(
  Array.from({ length: subscriberCount }, async () => {
    // The messages are the service's own JSON: checking their UTF-8 here only costs the generator CPU.
    const ws = new WebSocket(`${url.replace('http', 'ws')}${Routes.changes}`, { skipUTF8Validation: true });
    ws.on('message', (data) => {
      const now = performance.now();
      const n = Buffer.isBuffer(data) ? blobNumber(data) : -1;
      if (n < warmupBlobs) return;
      received++;
      fromPost.push(now - postedAt[n]!);
      const acked = acknowledgedAt[n]!;
      from201.push(Number.isNaN(acked) ? 0 : Math.max(0, now - acked));
    });
    await new Promise((resolve) => ws.once('message', resolve)); // the `live` message
    return ws;
  }),
);

let sent = 0;
let failed = 0;
// node:http with keep-alive: fetch costs the client more CPU than the server spends. The rate is
// open-loop, as from many independent clients: the pool must not hold POSTs back when the service
// is slow (a cap of 32 made couchdb POSTs queue here for seconds), only bound a hung run.
const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
const post = (n: number) =>
  new Promise<void>((resolve) => {
    postedAt[n] = performance.now();
    const body = JSON.stringify({ timestamp: Date.now(), n: String(n), user_agent: { browser: 'bench' }, event_stream: [['screen.rp_info', 0]] });
    const req = request(`${url}${Routes.blobs}`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 201) {
          acknowledgedAt[n] = performance.now();
          acknowledged++;
        } else if (failed++ === 0) console.error(`POST answered ${res.statusCode}`);
        resolve();
      });
    });
    req.on('error', (error) => {
      if (failed++ === 0) console.error('POST failed:', error);
      resolve();
    });
    req.end(body);
  });

const started = performance.now();
const pending: Promise<void>[] = [];
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    const due = Math.min(total, Math.round(((performance.now() - started) / 1000) * rate));
    while (sent < due) pending.push(post(sent++));
    if (sent >= total) {
      clearInterval(timer);
      resolve();
    }
  }, 10);
});
await Promise.all(pending);
const postingSeconds = (performance.now() - started) / 1000; // until the last 201, not the last delivery
const postTimes: number[] = [];
for (let n = warmupBlobs; n < total; n++) if (!Number.isNaN(acknowledgedAt[n]!)) postTimes.push(acknowledgedAt[n]! - postedAt[n]!);
const measuredBlobs = postTimes.length;
const expected = measuredBlobs * subscriberCount;
const deadline = Date.now() + 30_000;
while (received < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));

/** p50, p99 and max, sorting once (800,000 latencies: sorting them per percentile took seconds). */
function summary(values: number[]) {
  const sorted = Array.from(Float64Array.from(values).sort()); // a typed array sorts numerically, fast
  const at = (p: number) => Number(percentile(sorted, p).toFixed(2));
  return { p50: at(50), p99: at(99), max: at(100) };
}
const result = {
  backend,
  subscribers: subscriberCount,
  targetRate: rate,
  achievedRate: Math.round(acknowledged / postingSeconds),
  blobs: acknowledged,
  warmupBlobs,
  measuredBlobs,
  failedPosts: failed,
  deliveries: received,
  expectedDeliveries: expected,
  postMs: summary(postTimes),
  from201Ms: summary(from201),
  fromPostSentMs: summary(fromPost),
  serverPeakRssMiB: await server.peakRssMiB(),
};
console.log(JSON.stringify(result, null, 2));

for (const ws of sockets) ws.terminate();
agent.destroy();
await server.stop();
process.exit(result.deliveries === expected ? 0 : 1);
