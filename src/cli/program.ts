// The kpiggybank command line as one commander program: --help (and -h) on every command, and a
// user's mistake as one line naming it, then the usage, exit 2.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { z } from 'zod';
import { addAnalystCommands } from './analyst.js';
import { errorMessage } from './cli-error.js';
import { addExportCommand } from './export-command.js';
import { addLoadtestCommand } from './loadtest-command.js';
import { addSchemaCommand } from './schema-command.js';
import { USAGE_EXIT, type Exit } from './usage.js';

// ../../package.json from src/cli (tsx) and from dist/cli alike
const version = () => z.object({ version: z.string() }).parse(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))).version;

function createProgram(exit: Exit): Command {
  const program = new Command('kpiggybank')
    .usage('[--version] [--help] <command> [options]')
    .description("The analyst's side of a kpiggybank service (drain, count, range, export, schema sql), and its load test.")
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print this help')
    .helpCommand('help [command]', 'print the help of a command')
    // "usage:" as the load test's help always began; the rest is commander's
    .configureHelp({ styleTitle: (title) => (title === 'Usage:' ? 'usage:' : title) })
    .configureOutput({ outputError: (message, write) => write(`kpiggybank: ${message.replace(/^error: /, '')}`) })
    .showHelpAfterError()
    // each command names a stray argument itself (commander's message does not)
    .allowExcessArguments()
    // throw rather than exit: run() turns every commander error into exit 2 (0 for --help, --version)
    .exitOverride((error) => {
      throw error;
    })
    .addHelpText(
      'after',
      `
Environment (a flag wins over its variable):
  KPIGGYBANK_URL  the service of drain, count and range (default http://127.0.0.1:3000)
  DRAIN_TOKEN     drain's token, as the service has it
  READ_TOKEN      the read token of count, range and export, if the service has one

Each command's --help lists its options and exit codes.`,
    );
  // commands created through program.command() inherit the settings above
  addAnalystCommands(program, exit);
  addExportCommand(program, exit);
  addLoadtestCommand(program, exit);
  addSchemaCommand(program, exit);
  return program;
}

/** Runs the command line; resolves with the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  let code = 0;
  const program = createProgram((exitCode) => (code = exitCode));
  try {
    if (argv.length === 0) program.error('which command? drain, count, range, export, schema or loadtest', { exitCode: USAGE_EXIT });
    // commander's `help bogus` prints the usage without saying why
    if (argv[0] === 'help' && argv[1] !== undefined && !program.commands.some((command) => command.name() === argv[1])) {
      program.error(`unknown command ${JSON.stringify(argv[1])}`, { exitCode: USAGE_EXIT });
    }
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    // commander has printed its line and the usage already
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : USAGE_EXIT;
    // each command reports its own failures: this is a bug's last line, still without a stack trace
    process.stderr.write(`kpiggybank: unexpected error: ${errorMessage(error)}\n`);
    return 1;
  }
}
