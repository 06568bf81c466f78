// The exporter's log: pino, on stderr (stdout stays free for `export status`), JSON for a pipe or a
// file and pretty lines on a terminal. Lines pass through `LogSink`, so that a progress bar can
// print them above itself instead of being torn by them.
import { pino, type Level, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';

/** Where log lines go: stderr, unless a progress bar takes them. */
export class LogSink {
  #through: ((line: string) => void) | undefined;
  readonly #format: ((line: string) => string) | undefined;

  constructor(pretty: boolean) {
    this.#format = pretty ? prettyFactory({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' }) : undefined;
  }

  /** Lines go to `through` (a progress bar's log) until it is undefined again. */
  route(through: ((line: string) => void) | undefined): void {
    this.#through = through;
  }

  write(line: string): void {
    const text = this.#format ? this.#format(line) : line;
    if (this.#through) this.#through(text);
    else process.stderr.write(text);
  }
}

/** Anything that could carry a secret is censored, should a caller ever log it. */
const REDACT = ['*.password', '*.token', 'password', 'token'];

export function createExportLogger(level: Level | 'silent', sink: LogSink): Logger {
  return pino({ level, base: { pid: process.pid }, redact: { paths: REDACT, censor: '[redacted]' } }, sink);
}
