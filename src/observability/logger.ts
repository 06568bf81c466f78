import { constants, openSync } from 'node:fs';
import { pino, symbols, type DestinationStream, type LevelWithSilent, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';

/** Anything that could carry a secret is censored before a line is written. */
const REDACT = ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'res.headers["set-cookie"]', 'config.couch.password', '*.password'];

type LogFormat = 'json' | 'pretty';

/** Pretty lines for a person at a terminal in dev mode; JSON for pipes, files, collectors and prod. */
export function logFormat(mode: 'dev' | 'prod', isTTY: boolean): LogFormat {
  return mode === 'dev' && isTTY ? 'pretty' : 'json';
}

/** A pino destination that may be flushed: pino's own (sonic-boom), or a test's stream. */
type Sink = DestinationStream & { flush?: (cb: (error?: Error) => void) => void; flushSync?: () => void };

/**
 * Formats each JSON line with pino-pretty in the calling thread, synchronously, before it reaches
 * `sink`: nothing is buffered between the two, so flushing (and giving up on) the sink is all a
 * shutdown needs, as with JSON. (A pino transport would format in a worker thread, which the exit
 * path would have to wait for.) Redaction has happened already: pino redacts before serialising.
 */
class PrettyDestination implements DestinationStream {
  private readonly format: (line: string) => string;

  constructor(
    readonly sink: Sink,
    colorize: boolean,
  ) {
    this.format = prettyFactory({ colorize, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  }

  write(line: string): void {
    this.sink.write(this.format(line));
  }

  flush(cb: (error?: Error) => void): void {
    if (this.sink.flush) this.sink.flush(cb);
    else cb();
  }

  flushSync(): void {
    this.sink.flushSync?.();
  }
}

/**
 * stdout when it is a terminal, opened again without blocking. On the terminal's own descriptor
 * (blocking), a write while the terminal stops reading (Ctrl-S; a stalled script(1)) blocks a
 * libuv thread, and process.exit waits for that thread for ever; here it fails with EAGAIN, which
 * sonic-boom retries, and a shutdown gives up after its bound. Reopening leaves the flags of the
 * descriptor other processes share alone.
 */
function stdoutSink(): Sink | undefined {
  if (process.stdout.isTTY !== true) return undefined; // pino's default: a pipe or file as it is
  try {
    return pino.destination({ dest: openSync('/proc/self/fd/1', constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY), sync: false });
  } catch {
    return undefined;
  }
}

/** A logger writing to `destination` (default stdout), as JSON or, for a terminal, pretty lines. */
export function createLogger(config: { logLevel: LevelWithSilent }, destination?: DestinationStream, format: LogFormat = 'json'): Logger {
  const options = { level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' } };
  const sink = destination ?? stdoutSink();
  if (format === 'json') return pino(options, sink);
  // pino.destination() is what pino writes to by default, with its exit hook; colours only on stdout (a terminal).
  return pino(options, new PrettyDestination(sink ?? pino.destination({ dest: 1, sync: false }), destination === undefined));
}

/**
 * Exits with `code` once the lines logged so far have been written, or after `ms` if they cannot
 * be: a reader of stdout that stopped reading must not keep the process alive. pino's exit hook
 * writes what is left synchronously and retries a full pipe (EAGAIN) every 100 ms for ever, so
 * after `ms` those lines are given up (as pino itself gives up a broken pipe).
 */
export function exitOnceLogged(logger: Logger, code: number, ms: number): void {
  const timer = setTimeout(() => {
    const stream = (logger as unknown as Record<symbol, Sink | undefined>)[symbols.streamSym];
    // A pretty destination's sink is the one pino's exit hook flushes.
    for (const sink of [stream, stream instanceof PrettyDestination ? stream.sink : undefined]) {
      if (sink?.flushSync) sink.flushSync = () => undefined;
    }
    process.exit(code);
  }, ms);
  logger.flush(() => {
    clearTimeout(timer);
    process.exit(code);
  });
}
