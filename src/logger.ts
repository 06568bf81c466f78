import { pino, type DestinationStream, type Logger } from 'pino';
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
