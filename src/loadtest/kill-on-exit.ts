import type { ChildProcess } from 'node:child_process';

/**
 * Kills `child` when this process exits before it, a crash included: a load test or benchmark
 * that dies must not leave its service running (one did, and skewed the runs after it).
 * SIGKILL suits a child without children of its own. A child that started processes of its own
 * gets SIGTERM, and ends through `exitOnTermination()`, so that its own hooks kill them in turn.
 */
export function killOnExit(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  const kill = () => child.kill(signal);
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
}

/** SIGTERM and SIGINT end this process through `process.exit`: Node's default dies of them without running 'exit' hooks. */
export function exitOnTermination(): void {
  process.once('SIGTERM', () => process.exit(143));
  process.once('SIGINT', () => process.exit(130));
}
