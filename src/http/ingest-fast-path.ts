import type { IncomingMessage, ServerResponse } from 'node:http';
import { Routes } from 'kpiggybank-client/wire';
import type { Logger } from 'pino';
import { givenToken, tokenMatches } from '../access/tokens.js';
import { toHttpError } from './errors.js';
import { HttpError } from './http-error.js';
import { countRejected, formData, storeBody, type IngestDeps } from './ingest.js';
import type { OriginPolicy } from '../access/origin-policy.js';
import { logRequest, requestTimer } from './request-log.js';
import { RESPONSE_HEADERS } from './response-headers.js';

interface FastPathDeps extends Pick<IngestDeps, 'store' | 'metrics' | 'limits' | 'checker'> {
  logger: Logger;
  writeToken: string | undefined;
  isShuttingDown: () => boolean;
  origins: OriginPolicy;
}

type Kind = 'json' | 'form';

/**
 * The body kinds taken here: JSON or a form, UTF-8, not compressed, with a Content-Length.
 * Anything else (gzip, chunked, another charset, `+json`) goes to Express's body parsers.
 */
function kindOf(req: IncomingMessage): Kind | undefined {
  const { headers } = req;
  if (headers['content-length'] === undefined || headers['transfer-encoding'] !== undefined) return undefined;
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return undefined;
  const type = headers['content-type'];
  if (type === undefined) return undefined;
  const semicolon = type.indexOf(';');
  if (semicolon >= 0 && !/^;\s*charset="?utf-8"?\s*$/i.test(type.slice(semicolon))) return undefined;
  const media = (semicolon < 0 ? type : type.slice(0, semicolon)).trim().toLowerCase();
  return media === 'application/json' ? 'json' : media === 'application/x-www-form-urlencoded' ? 'form' : undefined;
}

/** The write token as requireToken reads it: the Bearer header, else the `token` query parameter. */
function tokenOf(req: IncomingMessage, query: string): string | undefined {
  return givenToken(req.headers, query === '' ? undefined : (new URLSearchParams(query).get('token') ?? undefined));
}

/**
 * The body as the ingest code expects it: JSON parsed, or the form's one `data` field parsed.
 * A UTF-8 byte order mark before it is dropped, as Express's body parsers (iconv-lite) drop it,
 * so that both paths take the same bodies.
 */
function parse(kind: Kind, body: string): unknown {
  const text = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  if (kind === 'form') {
    const form = new URLSearchParams(text);
    let fields = 0;
    for (const _ of form.keys()) if (++fields > 100) throw new HttpError(413, 'too_large', 'the form has too many fields; send one field, data=<JSON>');
    const data = form.getAll('data');
    return formData(data.length > 1 ? data : data[0]);
  }
  if (text.length === 0) return {}; // as Express's JSON parser: an empty body is an empty object
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'malformed_json', `the body is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * `POST /wsapi/interaction_data` on plain node:http, before Express: Express's per-request work
 * (prototype swaps, the router's walk through every layer, a child logger per request, res.json)
 * cost several times what storing a blob in memory does. Same answers, log line and metrics as the
 * Express route; returns false, touching nothing, for any request it does not take.
 */
export function ingestFastPath({
  store,
  metrics,
  limits,
  checker,
  logger,
  writeToken,
  isShuttingDown,
  origins,
}: FastPathDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const timer = requestTimer(metrics, 'POST', Routes.blobs);

  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const question = url.indexOf('?');
    if ((question < 0 ? url : url.slice(0, question)) !== Routes.blobs) return false;
    const kind = kindOf(req);
    if (kind === undefined) return false;

    const started = performance.now();
    metrics.ingestRequests.inc({ path: 'fast' });
    let body: unknown;
    const answer = (status: number, json: string, headers: Record<string, string> = {}) => {
      if (isShuttingDown()) res.setHeader('Connection', 'close');
      res.writeHead(status, {
        ...RESPONSE_HEADERS,
        ...origins.corsHeaders(req.headers),
        ...headers,
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(json),
      });
      res.end(json);
      timer(status, started);
      logRequest(logger, req, status, started);
    };
    const fail = (error: unknown) => {
      const { http, internal } = toHttpError(error);
      if (internal) logger.error({ err: error, method: req.method, url: Routes.blobs }, 'request failed');
      countRejected(metrics, http.code, body);
      if (res.headersSent || res.destroyed) return;
      answer(http.status, JSON.stringify(http.body), http.headers);
    };

    const refused = origins.refusal(req.headers);
    if (refused) {
      fail(refused);
      return true;
    }
    if (writeToken !== undefined && !tokenMatches(writeToken, tokenOf(req, question < 0 ? '' : url.slice(question + 1)))) {
      fail(new HttpError(401, 'unauthorized', 'writes need the write token: send Authorization: Bearer <token>', undefined, { 'WWW-Authenticate': 'Bearer' }));
      return true;
    }
    const length = Number(req.headers['content-length']);
    if (!(length <= limits.maxBodyBytes)) {
      fail(new HttpError(413, 'too_large', `the request body is larger than the limit of ${limits.maxBodyBytes} bytes`));
      return true;
    }

    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('error', (error) => fail(new HttpError(400, 'bad_request', `the body was not received whole: ${error.message}`)));
    req.on('end', () => {
      try {
        body = parse(kind, text);
      } catch (error) {
        fail(error);
        return;
      }
      storeBody(body, { store, metrics, limits, checker }).then((result) => answer(201, JSON.stringify(result)), fail);
    });
    return true;
  };
}
