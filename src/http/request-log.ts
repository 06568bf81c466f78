import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { DurationSeries } from '../observability/duration-histogram.js';
import type { Metrics } from '../observability/metrics.js';

/** A parameter name as the query parsers read it (`%74oken` is `token`), compared without case. */
function isTokenName(raw: string): boolean {
  let name = raw;
  try {
    name = decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    // malformed escapes: judged as written
  }
  return /^\s*token\s*(\[|$)/i.test(name);
}

/** A `token` query parameter is a secret: it never reaches a log line, however its name is escaped. */
function withoutToken(url: string): string {
  const question = url.indexOf('?');
  if (question < 0) return url;
  const pairs = url
    .slice(question + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals < 0 ? pair : pair.slice(0, equals);
      return isTokenName(name) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, question + 1)}${pairs.join('&')}`;
}

type Level = 'info' | 'warn' | 'error';
const levelOf = (status: number, error?: unknown): Level => (error || status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info');

/** One log line per request: info when fine, warn for 4xx, error for 5xx (MODE=prod logs from warn up). */
export function requestLog(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    customLogLevel: (_req, res, error) => levelOf(res.statusCode, error),
    serializers: {
      req: (req: { method: string; url: string; remoteAddress?: string }) => ({
        method: req.method,
        url: withoutToken(req.url),
        remoteAddress: req.remoteAddress,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}

/**
 * The line `requestLog` writes, for requests served outside Express (the ingest fast path),
 * without pino-http's child logger per request: when the level is off, it costs one comparison.
 */
export function logRequest(logger: Logger, req: IncomingMessage, status: number, startedMs: number): void {
  const level = levelOf(status);
  if (!logger.isLevelEnabled(level)) return;
  const line = {
    req: { method: req.method, url: withoutToken(req.url ?? ''), remoteAddress: req.socket.remoteAddress },
    res: { statusCode: status },
    responseTime: Math.round(performance.now() - startedMs),
  };
  if (status >= 500) logger[level]({ ...line, err: new Error(`failed with status code ${status}`) }, 'request errored');
  else logger[level](line, 'request completed');
}

/** `kpiggybank_http_request_duration_seconds` by route pattern (never the raw URL: bounded labels). */
export function requestMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpDuration.startTimer();
    res.once('finish', () => {
      const route = req.route ? String(req.route.path) : 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
}

/** The same histogram for one route served outside Express; the labelled series is looked up once per status. */
export function requestTimer(metrics: Metrics, method: string, route: string): (status: number, startedMs: number) => void {
  const series = new Map<number, DurationSeries>();
  return (status, startedMs) => {
    let child = series.get(status);
    if (!child) {
      child = metrics.httpDuration.labels({ method, route, status: String(status) });
      series.set(status, child);
    }
    child.observe((performance.now() - startedMs) / 1000);
  };
}
