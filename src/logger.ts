import { pino, symbols, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.js';

/** Anything that could carry a secret is censored before a line is written. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'config.couch.password',
  '*.password',
];

export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  return pino({ level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' } }, destination);
}

/**
 * Exits with `code` once the lines logged so far have been written, or after `ms` if they cannot
 * be: a reader of stdout that stopped reading must not keep the process alive. pino's exit hook
 * writes what is left synchronously and retries a full pipe (EAGAIN) every 100 ms for ever, so
 * after `ms` those lines are given up (as pino itself gives up a broken pipe).
 */
export function exitOnceLogged(logger: Logger, code: number, ms: number): void {
  const timer = setTimeout(() => {
    const stream = (logger as unknown as Record<symbol, { flushSync?: () => void } | undefined>)[symbols.streamSym];
    if (stream?.flushSync) stream.flushSync = () => undefined;
    process.exit(code);
  }, ms);
  logger.flush(() => {
    clearTimeout(timer);
    process.exit(code);
  });
}
