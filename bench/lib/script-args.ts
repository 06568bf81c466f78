import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * The options of a bench script (`npm run bench:<name> -- …`): `--help` prints `usage` and exits
 * 0; a mistake is one line on stderr naming it, exit 2, as is what the script refuses with `fail`.
 */
export function scriptArgs<O extends Options>(
  name: string,
  usage: string,
  options: O,
): { values: ReturnType<typeof parseArgs<{ options: O }>>['values']; fail: (message: string) => never } {
  const fail = (message: string): never => {
    console.error(`bench:${name}: ${message} (npm run bench:${name} -- --help lists the options)`);
    process.exit(2);
  };
  let values: ReturnType<typeof parseArgs<{ options: O }>>['values'];
  try {
    ({ values } = parseArgs({ options }));
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  if ((values as { help?: boolean }).help) {
    console.log(usage);
    process.exit(0);
  }
  return { values, fail };
}
