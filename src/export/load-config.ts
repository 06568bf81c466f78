// Reads the export's config file: TOML (formats/toml-file.ts), checked by config.ts's schema, its
// relative paths resolved from the file's folder.
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError, parseTomlFile, readTomlFile } from '../formats/toml-file.js';
import { ExportConfigSchema, type ExportConfig } from './config.js';
import { emptyRangeReason } from './filter.js';

/** Paths in the file are relative to the file, so that a config means the same from any directory. */
function resolvePaths(config: ExportConfig, base: string): ExportConfig {
  const at = (path: string) => (isAbsolute(path) || path === ':memory:' ? path : resolve(base, path));
  return {
    ...config,
    exports: config.exports.map((job) => {
      const { destination } = job;
      if (destination.kind === 'files') return { ...job, destination: { ...destination, dir: at(destination.dir) } };
      if (destination.kind === 'duckdb') return { ...job, destination: { ...destination, path: at(destination.path) } };
      return job;
    }),
  };
}

/** Checks a config given as text (TOML); `file` names it in messages and is where relative paths start. */
export function parseConfig(text: string, file: string): ExportConfig {
  const config = parseTomlFile(text, file, ExportConfigSchema);
  // checked here, not in the schema: filter.ts reads the schema's types
  const empty = config.exports.flatMap((job, index) => {
    const why = emptyRangeReason(job.filter);
    return why === undefined ? [] : [`${file}: exports[${index}].filter: ${why}`];
  });
  if (empty.length > 0) throw new ConfigError(empty);
  return resolvePaths(config, dirname(resolve(file)));
}

/** Reads and checks the config file. */
export async function loadConfig(file: string): Promise<ExportConfig> {
  return parseConfig(await readTomlFile(file, "the export's config: see docs/export.md"), file);
}
