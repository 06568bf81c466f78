// kpiggybank schema sql: the tables of the declared event schema, as the DDL the export runs when
// it makes them (one CREATE TABLE per event type, named after it), to create them beforehand, to
// review, or to hand a DBA. It reads the schema file itself: no service is needed.
import { type Command, CommanderError, Option } from 'commander';
import { z } from 'zod';
import { errorMessage } from './cli-error.js';
import { mistake, noArguments, USAGE_EXIT, type Exit } from './usage.js';

const DIALECTS = ['postgres', 'duckdb'] as const;

const SqlOptionsSchema = z.object({ dialect: z.string().optional(), schema: z.string().optional(), type: z.string().optional() });

const DESCRIPTION = [
  'Prints the CREATE TABLE statement of each event type the schema file declares (or of --type), one a line, as `kpiggybank export` runs it for a job with event_type when the table is missing: the fixed columns (_id, timestamp, at, extra), then a column per declared leaf field (user_agent.browser becomes user_agent_browser), typed from the schema, NOT NULL where the field is required.',
  'PostgreSQL tables are partitioned by range of `at`; the export adds the partitions as rows need them. Run the output as it is (psql -f, duckdb < file); see docs/schema.md.',
].join('\n\n');

async function schemaSql(command: Command): Promise<number> {
  noArguments(command);
  const options = SqlOptionsSchema.parse(command.opts());
  if (options.dialect === undefined) return mistake(command, `which dialect? --dialect ${DIALECTS.join(' or ')}`);
  const dialect = DIALECTS.find((name) => name === options.dialect);
  if (dialect === undefined) return mistake(command, `--dialect must be ${DIALECTS.join(' or ')}, not ${JSON.stringify(options.dialect)}`);
  const file = options.schema === '' ? undefined : options.schema;
  if (file === undefined) return mistake(command, 'which schema? --schema FILE, or SCHEMA_FILE in the environment');
  const { loadSchema } = await import('../schema/load-schema.js');
  const { eventTypeNamed, schemaColumns } = await import('../export/schema-columns.js');
  const schema = await loadSchema(file);
  let types = schema.types;
  if (options.type !== undefined) {
    try {
      types = [eventTypeNamed(schema.types, options.type)];
    } catch (error) {
      return mistake(command, `--type: ${file}: ${errorMessage(error)}`);
    }
  }
  const { createTableSql } = dialect === 'postgres' ? await import('../export/postgres/table-sql.js') : await import('../export/duckdb/table-sql.js');
  let out = '';
  for (const type of types) out += `${createTableSql(type.name, schemaColumns(type, dialect))};\n`;
  process.stdout.write(out);
  return 0;
}

/** Prints the failure in one line (one per mistake of a schema file) and gives its exit code. */
async function report(error: unknown): Promise<number> {
  const { ConfigError } = await import('../formats/toml-file.js');
  if (error instanceof ConfigError) {
    for (const problem of error.problems) process.stderr.write(`kpiggybank schema: ${problem}\n`);
    return USAGE_EXIT;
  }
  const { DestinationError } = await import('../export/destination.js');
  process.stderr.write(`kpiggybank schema: ${error instanceof DestinationError ? errorMessage(error) : `unexpected error: ${errorMessage(error)}`}\n`);
  return 1;
}

export function addSchemaCommand(program: Command, exit: Exit): void {
  const schema = program.command('schema').summary("the declared event schema's tables").usage('sql --dialect postgres|duckdb [--schema F] [--type NAME]');
  schema
    .command('sql')
    .summary("print the CREATE TABLE statements of the event schema's types, as the export makes them")
    .usage('--dialect postgres|duckdb [--schema F] [--type NAME]')
    .description(DESCRIPTION)
    .option('--dialect <D>', 'postgres or duckdb')
    .addOption(new Option('--schema <F>', 'the event schema file (TOML)').env('SCHEMA_FILE'))
    .option('--type <NAME>', 'only this event type (default: every type)')
    .addHelpText('after', '\nExit status: 0 printed; 1 a type cannot be made a table (two fields would be one column); 2 a bad option or a mistake in the schema file.')
    .action(async (_options: unknown, command: Command) => {
      let code: number;
      try {
        code = await schemaSql(command);
      } catch (error) {
        if (error instanceof CommanderError) throw error; // a mistake, already said
        code = await report(error);
      }
      exit(code);
    });
  schema.action((_options: unknown, command: Command) => mistake(command, 'which schema command? sql'));
}
