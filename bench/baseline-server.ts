// The bare node:http baseline of `npm run bench`: read the body, JSON.parse it (the legacy form's
// `data` field too), keep it, answer 201. Nothing else: no validation, no log, no metric.
//   tsx bench/baseline-server.ts <port>
import { createServer } from 'node:http';

const kept: unknown[] = [];
const server = createServer((req, res) => {
  let text = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (text += chunk));
  req.on('end', () => {
    try {
      const json = req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ? (new URLSearchParams(text).get('data') ?? '') : text;
      const parsed: unknown = JSON.parse(json);
      if (Array.isArray(parsed)) for (const blob of parsed) kept.push(blob);
      else kept.push(parsed);
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}');
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"malformed_json"}');
    }
  });
});
server.listen(Number(process.argv[2]), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => process.exit(0));
