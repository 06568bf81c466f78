// Change feed latency: N WebSocket subscribers, blobs POSTed one per request at a steady rate;
// for each blob and subscriber, the time from the POST's sending (and from its 201) to the change's
// arrival; and each POST's own time to its 201.
//   npm run bench:feed -- [--backend memory|pouchdb|couchdb] [--subscribers 100] [--rate 1000] [--seconds 10] [--warmup 2]
// The first --warmup seconds run at the same rate and are not measured (the JIT's first second).
// couchdb uses COUCHDB_URL, else a PouchDB Server (in memory) started for the run.
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { percentile } from '../src/loadtest/percentiles.js';
import { exitOnTermination } from '../src/loadtest/kill-on-exit.js';
import { startService, type Backend } from '../src/loadtest/service.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'memory' },
    subscribers: { type: 'string', default: '100' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
  },
});
const backend = values.backend;
const subscriberCount = Number(values.subscribers);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const warmupBlobs = Math.round(rate * Number(values.warmup));
const total = warmupBlobs + rate * seconds;

exitOnTermination(); // npm run bench ends this script with SIGTERM when it dies first: the service goes too
const server = await startService(backend as Backend, { couchdbUrl: process.env.COUCHDB_URL });
const { url } = server;

const postedAt = new Map<string, number>();
const acknowledgedAt = new Map<string, number>();
const fromPost: number[] = [];
const from201: number[] = []; // 0 where the change arrived before the 201 was read
let received = 0;
const sockets = await Promise.all(
  Array.from({ length: subscriberCount }, async () => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/wsapi/changes`);
    ws.on('message', (data) => {
      const now = performance.now();
      // The client parses 100,000 messages/s here: find the blob's number without JSON.parse.
      const text = String(data);
      const at = text.indexOf('"n":"');
      if (at < 0) return;
      const n = text.slice(at + 5, text.indexOf('"', at + 5));
      if (Number(n) < warmupBlobs) return;
      received++;
      fromPost.push(now - postedAt.get(n)!);
      const acked = acknowledgedAt.get(n);
      from201.push(acked === undefined ? 0 : Math.max(0, now - acked));
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
const post = (n: string) =>
  new Promise<void>((resolve) => {
    postedAt.set(n, performance.now());
    const body = JSON.stringify({ timestamp: Date.now(), n, user_agent: { browser: 'bench' }, event_stream: [['screen.rp_info', 0]] });
    const req = request(`${url}/wsapi/interaction_data`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 201) acknowledgedAt.set(n, performance.now());
        else if (failed++ === 0) console.error(`POST answered ${res.statusCode}`);
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
    while (sent < due) pending.push(post(String(sent++)));
    if (sent >= total) {
      clearInterval(timer);
      resolve();
    }
  }, 10);
});
await Promise.all(pending);
const postingSeconds = (performance.now() - started) / 1000; // until the last 201, not the last delivery
const measuredBlobs = [...acknowledgedAt.keys()].filter((n) => Number(n) >= warmupBlobs).length;
const expected = measuredBlobs * subscriberCount;
const deadline = Date.now() + 30_000;
while (received < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));

const pct = (values: number[], p: number) => Number(percentile([...values].sort((x, y) => x - y), p).toFixed(2));
const result = {
  backend,
  subscribers: subscriberCount,
  targetRate: rate,
  achievedRate: Math.round(acknowledgedAt.size / postingSeconds),
  blobs: acknowledgedAt.size,
  warmupBlobs,
  measuredBlobs,
  failedPosts: failed,
  deliveries: received,
  expectedDeliveries: expected,
  postMs: (() => {
    const measured = [...acknowledgedAt].filter(([n]) => Number(n) >= warmupBlobs).map(([n, at]) => at - postedAt.get(n)!);
    return { p50: pct(measured, 50), p99: pct(measured, 99), max: pct(measured, 100) };
  })(),
  from201Ms: { p50: pct(from201, 50), p99: pct(from201, 99), max: pct(from201, 100) },
  fromPostSentMs: { p50: pct(fromPost, 50), p99: pct(fromPost, 99), max: pct(fromPost, 100) },
  serverPeakRssMiB: await server.peakRssMiB(),
};
console.log(JSON.stringify(result, null, 2));

for (const ws of sockets) ws.terminate();
agent.destroy();
await server.stop();
process.exit(result.deliveries === expected ? 0 : 1);
