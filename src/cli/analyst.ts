// kpiggybank drain|count|range: the analyst's side of the piggybank.
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { request as requestTls } from 'node:https';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { CountResponseSchema, DrainCommitResponseSchema, DrainSchema, ErrorBodySchema } from 'kpiggybank-client/wire';
import { LOADTEST_USAGE } from './loadtest.js';

const USAGE = `usage:
  kpiggybank drain --url URL --token T --out FILE [--format ndjson|csv] [--start S] [--end E]
  kpiggybank count --url URL [--token T]
  kpiggybank range --url URL [--token T] [--start S] [--end E]
  ${LOADTEST_USAGE.replace(/^usage: /, '')}`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:3000' },
    token: { type: 'string' },
    out: { type: 'string' },
    format: { type: 'string', default: 'ndjson' },
    start: { type: 'string' },
    end: { type: 'string' },
  },
});

function fail(message: string): never {
  process.stderr.write(`kpiggybank: ${message}\n`);
  process.exit(1);
}

const base = values.url.replace(/\/+$/, '');
const headers: Record<string, string> = values.token ? { Authorization: `Bearer ${values.token}` } : {};
const range = new URLSearchParams();
if (values.start !== undefined) range.set('start', values.start);
if (values.end !== undefined) range.set('end', values.end);

/**
 * node:http rather than fetch: claiming a million blobs takes minutes before the first byte of the
 * answer, past fetch's fixed 300 s wait for response headers.
 */
function send(method: string, path: string): Promise<IncomingMessage> {
  const url = new URL(`${base}${path}`);
  const issue = url.protocol === 'https:' ? requestTls : request;
  return new Promise((resolve, reject) => issue(url, { method, headers }, resolve).on('error', reject).end());
}

async function text(res: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return body;
}

async function call(method: string, path: string): Promise<IncomingMessage> {
  const res = await send(method, path).catch((error: unknown) => fail(`cannot reach ${base}: ${(error as Error).message}`));
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 300) {
    const body = ErrorBodySchema.safeParse(await text(res).then(JSON.parse).catch(() => undefined));
    fail(`${method} ${path} answered ${status}${body.success ? `: ${body.data.reason}` : ''}`);
  }
  return res;
}

const json = async (res: IncomingMessage): Promise<unknown> => JSON.parse(await text(res));

/** Counts records as they pass: NDJSON lines, or CSV rows (newlines inside quotes are not row ends). */
function recordCounter(format: 'ndjson' | 'csv'): (chunk: Uint8Array) => number {
  let quoted = false;
  return (chunk) => {
    let records = 0;
    for (const byte of chunk) {
      if (format === 'csv' && byte === 0x22) quoted = !quoted;
      else if (byte === 0x0a && !quoted) records++;
    }
    return records;
  };
}

async function drain(): Promise<void> {
  if (!values.out) fail(`drain needs --out FILE\n${USAGE}`);
  if (values.format !== 'ndjson' && values.format !== 'csv') fail('--format must be ndjson or csv');
  const format = values.format;
  const claim = DrainSchema.parse(await json(await call('POST', `/wsapi/drains?${range}`)));
  const tty = process.stderr.isTTY;
  if (!tty) process.stderr.write(`kpiggybank: drain ${claim.id} claimed ${claim.count} blobs\n`);
  const bar = tty ? new SingleBar({ format: 'draining [{bar}] {value}/{total} blobs | {mib} MiB | {rate} blobs/s | {eta_formatted}' }) : undefined;
  bar?.start(claim.count, 0, { mib: '0.0', rate: 0 });

  const res = await call('GET', `/wsapi/drains/${claim.id}/blobs?format=${format}`);
  const file = createWriteStream(values.out);
  const count = recordCounter(format);
  const started = Date.now();
  let records = 0;
  let bytes = 0;
  for await (const chunk of res as AsyncIterable<Uint8Array>) {
    records += count(chunk);
    bytes += chunk.length;
    if (!file.write(chunk)) await new Promise<void>((resolve) => file.once('drain', () => resolve()));
    bar?.update(format === 'csv' ? Math.max(0, records - 1) : records, {
      mib: (bytes / 2 ** 20).toFixed(1),
      rate: Math.round(records / Math.max(0.001, (Date.now() - started) / 1000)),
    });
  }
  await new Promise<void>((resolve, reject) => file.end((error?: Error | null) => (error ? reject(error) : resolve())));
  const handle = await open(values.out, 'r+');
  await handle.sync(); // on disk before anything is deleted
  await handle.close();
  bar?.stop();

  const received = format === 'csv' ? Math.max(0, records - 1) : records;
  if (received !== claim.count) {
    fail(`received ${received} of the ${claim.count} blobs claimed: nothing was deleted; the drain expires at ${new Date(claim.expiresAt).toISOString()} and its blobs can be drained again`);
  }
  const committed = DrainCommitResponseSchema.parse(await json(await call('POST', `/wsapi/drains/${claim.id}/commit`)));
  process.stderr.write(`kpiggybank: ${committed.removed} blobs written to ${values.out} (${bytes} bytes, fsynced) and deleted from the store\n`);
}

async function main(): Promise<void> {
  switch (positionals[0]) {
    case 'drain':
      return drain();
    case 'count':
      process.stdout.write(`${CountResponseSchema.parse(await json(await call('GET', '/wsapi/interaction_data/count')))}\n`);
      return;
    case 'range': {
      const res = await call('GET', `/wsapi/interaction_data?${range}`);
      for await (const chunk of res as AsyncIterable<Uint8Array>) process.stdout.write(chunk);
      process.stdout.write('\n');
      return;
    }
    default:
      fail(USAGE);
  }
}

await main();
