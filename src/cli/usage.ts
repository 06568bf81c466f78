// What every command does with a mistake in its command line.
import type { Command } from 'commander';

/** Told a command's exit code when its action ends. */
export type Exit = (code: number) => void;

/** A bad option or command (commander's own, or a command's check). */
export const USAGE_EXIT = 2;

/** A mistake in the command line: one line, then the command's usage, exit 2. */
export const mistake = (command: Command, message: string): never => command.error(message, { exitCode: USAGE_EXIT, code: 'kpiggybank.usage' });

/** Refuses a stray argument: no command takes any. */
export function noArguments(command: Command): void {
  if (command.args.length > 0) mistake(command, `unexpected argument ${JSON.stringify(command.args[0])}: options start with --`);
}
