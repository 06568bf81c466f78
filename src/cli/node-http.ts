// How the CLI's client speaks HTTP: node:http. Not fetch: claiming a million blobs takes minutes
// before the first byte of the answer, past fetch's fixed 300 s wait for response headers. Not
// kpiggybank-client/undici: loading undici from node_modules costs a short-lived command ~0.4 s
// at start, enough for a drain's lease to run out before `--resume` asks.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import type { HttpExchange, HttpResponse } from 'kpiggybank-client';

export const nodeHttp: HttpExchange = ({ method, url, headers, body, timeoutMs, signal }) =>
  new Promise<HttpResponse>((resolve, reject) => {
    const target = new URL(url);
    const req = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, { method, headers, signal }, (res) => {
      clearTimeout(timer);
      resolve(answer(res));
    });
    const timer = timeoutMs > 0 ? setTimeout(() => req.destroy(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs) : undefined;
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(signal?.aborted ? signal.reason : error);
    });
    req.end(body);
  });

function answer(res: IncomingMessage): HttpResponse {
  return {
    status: res.statusCode ?? 0,
    statusText: res.statusMessage ?? '',
    header: (name) => {
      const value = res.headers[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
    text: async () => {
      let text = '';
      res.setEncoding('utf8');
      for await (const chunk of res) text += String(chunk);
      return text;
    },
    stream: () => Readable.toWeb(res) as ReadableStream<Uint8Array>,
  };
}
