// kpiggybank drain: claim → write to a temporary file → fsync, count → rename → commit; and --resume.
import { setTimeout as sleep } from 'node:timers/promises';
import { SingleBar } from 'cli-progress';
import type { RangeOptions } from 'kpiggybank-client';
import type { Drain, DrainHolder } from 'kpiggybank-client/wire';
import { CliError, clock, errorMessage } from './cli-error.js';
import { OutputFile, WriteError } from './output-file.js';
import { AnswerError, type Service } from './service.js';

interface DrainOptions {
  out: string;
  format: 'ndjson' | 'csv';
  /** CSV: write formula-like cells as they are (for machine readers). */
  csvRaw: boolean;
  force: boolean;
  range: Pick<RangeOptions, 'start' | 'end'>;
}

/** Exit codes of a signalled CLI, as a shell reports them (128 + the signal's number). */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

const say = (line: string) => process.stderr.write(`kpiggybank: ${line}\n`);

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

const describeHolders = (held: readonly DrainHolder[]) =>
  held
    .map(({ drain, count, until, committing }) =>
      committing
        ? `${count} blobs held by drain ${drain}, whose commit has begun (they will be deleted, not released: its commit is finished by its --resume, or by the service after ${clock(until)})`
        : `${count} blobs held by drain ${drain} until ${clock(until)}`,
    )
    .join('; ');

/** The command that finishes a commit cut short; the token is named, never printed. */
const resumeCommand = (service: Service, id: string) => `kpiggybank drain --resume ${id} --url ${service.shown} --token "$DRAIN_TOKEN"`;

/** A commit that cut short: the analyst has the file, so the way on is to finish the commit, never to drain again. */
function cutShort(service: Service, drain: Drain, out: string, cause: string, exitCode: number): CliError {
  return new CliError(
    `the commit of drain ${drain.id} was cut short (${cause}): its ${drain.count} blobs are in ${out}, fsynced; some may still be in the store, held by the drain until its commit is finished. Finish it with: ${resumeCommand(service, drain.id)}`,
    exitCode,
  );
}

/** A failure already cleaned up after, and said in full. */
class Settled extends CliError {}

/**
 * Lets go of the claim (best effort): what to tell the analyst about it. `leaseMs`: the lease's
 * length as the claim's answer gave it; reading renewed it since, so it ends at most that long
 * from now.
 */
async function release(service: Service, drain: Drain, leaseMs: number): Promise<string> {
  try {
    await service.ask((client) => client.releaseDrain(drain.id, { signal: AbortSignal.timeout(10_000) }));
    return `drain ${drain.id} is released: its blobs can be drained again now`;
  } catch (error) {
    const why = error instanceof AnswerError ? (error.reason ?? `status ${error.status}`) : errorMessage(error);
    return `drain ${drain.id} could not be released (${why}): its blobs can be drained again once its lease ends, by ${clock(Date.now() + leaseMs)}`;
  }
}

/**
 * Claims, streams into a temporary file, checks the count and fsyncs, puts the file in place,
 * then commits. Until the commit starts, any failure (or SIGINT/SIGTERM) releases the claim:
 * nothing is deleted. Once it started, a failure is a commit cut short, finished by --resume.
 */
export async function drain(service: Service, options: DrainOptions): Promise<number> {
  const file = await OutputFile.create(options.out, options.force);
  const stop = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = signal;
    stop.abort(new Error(signal));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const interrupted = () => {
    if (signalled) throw new CliError(`interrupted (${signalled})`, SIGNAL_EXIT[signalled]);
  };
  const tty = process.stderr.isTTY;
  const bar = tty ? new SingleBar({ format: 'draining [{bar}] {value}/{total} blobs | {mib} MiB | {rate} blobs/s | {eta_formatted}' }) : undefined;
  let claim: Drain | undefined;
  let committing = false;
  let leaseMs = 0;
  try {
    claim = await service.ask((client) => client.startDrain(options.range, { signal: stop.signal }));
    leaseMs = Math.max(0, claim.expiresAt - Date.now());
    interrupted();
    const held = claim.held ?? [];
    if (claim.count === 0 && held.length > 0) {
      // Not "0 blobs drained": the blobs exist, and the analyst must know who has them.
      const total = held.reduce((sum, holder) => sum + holder.count, 0);
      await file.discard();
      await release(service, claim, leaseMs);
      claim = undefined;
      throw new Settled(
        `nothing drained: the ${total} blobs of the range are held by other drains: ${describeHolders(held)}. Nothing was deleted and ${options.out} was not written; drain again after that`,
      );
    }
    if (!tty) say(`drain ${claim.id} claimed ${claim.count} blobs`);
    if (held.length > 0) say(`note: more blobs of the range are not in this drain: ${describeHolders(held)}`);
    bar?.start(claim.count, 0, { mib: '0.0', rate: 0 });

    const { id } = claim;
    const body = await service.ask((client) => client.drainStream(id, { format: options.format, formulas: options.csvRaw ? 'raw' : 'escape', signal: stop.signal }));
    const { received, bytes } = await copy(body, file, { format: options.format, claimed: claim.count, base: service.shown, bar });
    await file.finish();
    bar?.stop();
    interrupted();
    if (received !== claim.count) throw new CliError(`received ${received} of the ${claim.count} blobs claimed`);
    await file.place();
    interrupted();

    committing = true;
    say(`committing drain ${claim.id}: deleting its ${claim.count} blobs from the store (${options.out} is complete and fsynced)`);
    const committed = await service.ask((client) => client.commitDrain(id, { signal: stop.signal }));
    say(`${committed.removed} blobs written to ${options.out} (${bytes} bytes, fsynced) and deleted from the store`);
    return 0;
  } catch (error) {
    bar?.stop();
    if (error instanceof Settled) throw error;
    const exitCode = signalled ? SIGNAL_EXIT[signalled]! : error instanceof CliError ? error.exitCode : 1;
    const cause = signalled ? `interrupted by ${signalled}` : errorMessage(error);
    if (committing && claim) {
      if (!signalled && error instanceof AnswerError && error.status === 410) {
        throw new CliError(
          `drain ${claim.id} ended before its commit (${error.reason ?? 'expired'}): nothing was deleted, and its blobs can be drained again; ${options.out} holds a copy of them`,
        );
      }
      throw cutShort(service, claim, options.out, cause, exitCode);
    }
    await file.discard();
    if (!claim) {
      // Interrupted while claiming: the service releases a claim whose client left before its answer.
      throw new CliError(
        `${cause}${signalled ? ' while claiming' : ''}: nothing was deleted${signalled ? '; the service releases the claim' : ''}; ${options.out} was not written`,
        exitCode,
      );
    }
    const released = await release(service, claim, leaseMs);
    throw new CliError(`${cause}: nothing was deleted; ${released}; ${options.out} was not written`, exitCode);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Streams the answer into the file, counting records; a cut connection says after how many. */
async function copy(
  body: ReadableStream<Uint8Array>,
  file: OutputFile,
  { format, claimed, base, bar }: { format: 'ndjson' | 'csv'; claimed: number; base: string; bar: SingleBar | undefined },
): Promise<{ received: number; bytes: number }> {
  const count = recordCounter(format);
  const header = format === 'csv' ? 1 : 0;
  const started = Date.now();
  let records = 0;
  let bytes = 0;
  try {
    for await (const chunk of body) {
      records += count(chunk);
      bytes += chunk.length;
      await file.write(chunk);
      bar?.update(Math.max(0, records - header), {
        mib: (bytes / 2 ** 20).toFixed(1),
        rate: Math.round(records / Math.max(0.001, (Date.now() - started) / 1000)),
      });
    }
  } catch (error) {
    if (error instanceof WriteError) throw error;
    throw new CliError(`the connection to ${base} was cut after ${Math.max(0, records - header)} of the ${claimed} blobs (${errorMessage(error)})`);
  }
  return { received: Math.max(0, records - header), bytes };
}

/**
 * Finishes a commit cut short: commits again. While another service instance may still be
 * committing it (409 with Retry-After: until its lease ends), waits and tries again.
 */
export async function resume(service: Service, id: string): Promise<number> {
  let waiting = false;
  for (;;) {
    try {
      const { removed } = await service.ask((client) => client.commitDrain(id));
      say(`drain ${id} committed: its blobs are deleted from the store (${removed} by the commit that finished it)`);
      return 0;
    } catch (error) {
      if (!(error instanceof AnswerError)) throw error;
      if (error.status === 409 && error.retryAfter !== undefined) {
        if (!waiting)
          say(
            `drain ${id} is being committed by another service instance, or was until it died; waiting until ${clock(Date.now() + error.retryAfter * 1000)} to resume it (Ctrl-C stops waiting; nothing is lost)`,
          );
        waiting = true;
        await sleep(error.retryAfter * 1000);
        continue;
      }
      if (error.status === 409) {
        say(`drain ${id} is committed already: its blobs are deleted from the store`);
        return 0;
      }
      if (error.status === 410) {
        // The service lost the commit before it began (it died first), and the lease ran out since.
        throw new CliError(
          `drain ${id} ended before its commit began (${error.reason ?? 'expired'}): nothing of it was deleted; its blobs are still in the store, so a new drain would give them again, besides the file you have`,
        );
      }
      if (error.status === 404) throw new CliError(`${service.shown} knows no drain ${id}`);
      throw error;
    }
  }
}
