import type { ChildProcess } from 'node:child_process';

/**
 * Kills `child` when this process exits before it, a crash included: a load test or benchmark
 * that dies must not leave its service running (one did, and skewed the runs after it).
 */
export function killOnExit(child: ChildProcess): void {
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
}
