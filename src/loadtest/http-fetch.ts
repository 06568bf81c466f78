import { Agent, request, type IncomingHttpHeaders } from 'node:http';

export interface HttpFetch {
  fetch: typeof fetch;
  /** Closes the pool's idle sockets. */
  close(): void;
}

function headerEntries(headers: IncomingHttpHeaders): [string, string][] {
  const entries: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const one of value) entries.push([name, one]);
    else if (value !== undefined) entries.push([name, value]);
  }
  return entries;
}

/**
 * A `fetch` over node:http with a keep-alive pool of `maxSockets`, for the load generator.
 * Node 20's fetch costs the client several times the CPU the service spends on a small POST
 * (measured: ~1,500 against ~6,500 POSTs/s on this machine), so a load test through it measures
 * its own generator. Bodies are read whole, as text: the load test reads JSON pages, not streams.
 */
export function httpFetch(maxSockets: number): HttpFetch {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const fetchOverHttp = (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> =>
    new Promise((resolve, reject) => {
      if (input instanceof Request) throw new TypeError('httpFetch takes a URL, not a Request');
      const body = init.body ?? undefined;
      if (body !== undefined && body !== null && typeof body !== 'string') throw new TypeError('httpFetch sends string bodies only');
      const req = request(
        input,
        { method: init.method ?? 'GET', headers: init.headers as Record<string, string> | undefined, agent, signal: init.signal ?? undefined },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('error', reject);
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const empty = status === 204 || status === 304;
            resolve(new Response(empty ? null : text, { status, statusText: res.statusMessage ?? '', headers: headerEntries(res.headers) }));
          });
        },
      );
      req.on('error', reject);
      req.end(body ?? undefined);
    });
  return { fetch: fetchOverHttp as typeof fetch, close: () => agent.destroy() };
}
