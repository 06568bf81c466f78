import { Writable } from 'node:stream';

/** A log line as the tests read it: pino's `msg` and `level`, and what else it carries. */
export interface LogRecord {
  msg: string;
  level: number;
  [field: string]: unknown;
}

/**
 * A stream for a logger to write to (createLogger's destination), keeping what it was given:
 * `chunks` as written (pino writes a line at a time), `text()` all of it, `records()` each JSON line parsed.
 */
export function logSink() {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const text = () => chunks.join('');
  const records = <T extends LogRecord = LogRecord>(): T[] =>
    text()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as T);
  return { sink, chunks, text, records };
}
