import http from 'node:http';
import { startService } from './src/loadtest/service.ts';
import { loginBlob } from './src/loadtest/login-sequence.ts';
const svc = await startService((process.argv[2] ?? 'memory') as 'memory');
const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
const u = new URL(svc.url);
function post(body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: '/wsapi/interaction_data', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => { res.resume(); res.on('end', resolve); });
    req.on('error', reject); req.end(body);
  });
}
for (let round = 0; round < 5; round++) {
  let next = 0; const N = 5000; const base = Date.now();
  const t = performance.now();
  await Promise.all(Array.from({ length: 50 }, async () => { while (next < N) { const n = next++; await post(JSON.stringify(loginBlob('r' + round, n, base + n))); } }));
  const s = (performance.now() - t) / 1000;
  console.log(`round ${round}: ${Math.round(N / s)} POST/s`);
}
await svc.stop();
