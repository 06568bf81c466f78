// The export's config file (TOML), checked by one zod schema; every mistake is reported with its
// path, e.g. `exports[1].columns.lang: unknown type "strng"`.
import { z } from 'zod';
import { DURATION_HINT, parseDuration } from './duration.js';

export const COLUMN_TYPES = ['text', 'bigint', 'double', 'boolean', 'timestamptz', 'json'] as const;

const DurationSchema = z.string().refine((text) => parseDuration(text) !== undefined, { error: (issue) => `not a duration: ${JSON.stringify(issue.input)} (${DURATION_HINT})` });

const ColumnTypeSchema = z.enum(COLUMN_TYPES, { error: (issue) => `unknown type ${JSON.stringify(issue.input)} (one of ${COLUMN_TYPES.join(', ')})` });

/** `lang = "text"` (path = the name), or `browser = { path = "user_agent.browser", type = "text" }`. */
const ColumnSchema = z.preprocess((v) => (typeof v === 'string' ? { type: v } : v), z.strictObject({ path: z.string().min(1).optional(), type: ColumnTypeSchema }));

const FilesSchema = z.strictObject({
  kind: z.literal('files'),
  dir: z.string().min(1),
  format: z.enum(['ndjson', 'csv']).default('ndjson'),
  /** One file per window of blob time ("1h", "15m", "1d") … */
  window: DurationSchema.optional(),
  /** … or per this many blobs. */
  max_blobs: z.int().positive().optional(),
  gzip: z.boolean().default(false),
});
const DuckDbSchema = z.strictObject({ kind: z.literal('duckdb'), path: z.string().min(1), table: z.string().optional() });
const PostgresSchema = z.strictObject({
  kind: z.literal('postgres'),
  /** postgres://user@host:port/db; the password from PGPASSWORD or the URL (never logged). */
  url: z.string().regex(/^postgres(ql)?:\/\/./, 'must be a postgres:// URL, e.g. "postgres://user@host:5432/db"'),
  table: z.string().optional(),
  schema: z.string().default('public'),
  partition_days: z.int().positive().default(7),
  sync_table: z.string().default('kpiggybank_sync'),
});
const DESTINATION_KINDS = ['files', 'duckdb', 'postgres'] as const;
const DestinationSchema = z.discriminatedUnion('kind', [FilesSchema, DuckDbSchema, PostgresSchema], {
  error: (issue) => {
    const kinds = DESTINATION_KINDS.join(', ');
    if (typeof issue.input !== 'object' || issue.input === null || Array.isArray(issue.input)) return `expected a table such as { kind = "duckdb", path = "kpi.duckdb" }`;
    const kind = 'kind' in issue.input ? issue.input.kind : undefined;
    return kind === undefined ? `missing (the destination's kind: one of ${kinds})` : `unknown destination kind ${JSON.stringify(kind)} (one of ${kinds})`;
  },
});

const FilterSchema = z.strictObject({
  /** Keep a blob only when this field's value is one of `values` (KMDB's whitelisted events). */
  allow: z.strictObject({ field: z.string().min(1), values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1) }).optional(),
  /** Drop the blobs of these identities (KMDB's ignored users). */
  ignore: z.strictObject({ field: z.string().min(1), values: z.array(z.union([z.string(), z.number()])).min(1) }).optional(),
  /** Blob time range, inclusive, in the blobs' own unit or as an ISO date. */
  from: z.union([z.int(), z.iso.datetime({ offset: true }), z.iso.date()]).optional(),
  to: z.union([z.int(), z.iso.datetime({ offset: true }), z.iso.date()]).optional(),
});

// destination.ts's FIXED_COLUMNS, by value: the config stays free of the destinations' types
const FIXED_NAMES = new Set(['_id', 'timestamp', 'at', 'extra']);

const ExportSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'name must be lowercase letters, digits and _, starting with a letter'),
  /** DuckDB is the default: an analyst gets a SQL-ready file with no server (the path is beside the config file). */
  destination: DestinationSchema.default({ kind: 'duckdb', path: 'kpiggybank.duckdb' }),
  columns: z
    .record(
      z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a column name is letters, digits and _, not starting with a digit')
        .refine((name) => !FIXED_NAMES.has(name.toLowerCase()), {
          error: (issue) => `${JSON.stringify(issue.input)} is one of the columns every table has (${[...FIXED_NAMES].join(', ')})`,
        }),
      ColumnSchema,
    )
    .default({}),
  /** Add a nullable column for each new top-level field seen in the data (off with event_type). */
  infer: z.boolean().default(true),
  /** A type of the service's event schema (GET /wsapi/schema): only its blobs, into the columns, types and NOT NULLs it declares. */
  event_type: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an event type is named with letters, digits and _ (as the schema file names it)')
    .optional(),
  include_deleted: z.boolean().default(false),
  filter: FilterSchema.default({}),
  /**
   * A batch is loaded when it holds max_blobs blobs, or max_delay after its first change arrived
   * (hauser's ExportDelay). 2,000 rather than 10,000: a batch's rows live until it loads, and
   * smaller batches die young instead of piling up in V8's old space. Measured (npm run
   * bench:export, 1,000,000 blobs, the shared 2-core machine): files 41,400 -> 47,500 blobs/s and
   * 193 -> 135 MiB peak RSS, PostgreSQL 33,900 -> 37,500 and 166 -> 127 MiB, DuckDB (whose commits
   * cost more) 34,900 -> 32,100 and 382 -> 328 MiB.
   */
  batch: z.strictObject({ max_blobs: z.int().positive().default(2_000), max_delay: DurationSchema.default('1s') }).default({ max_blobs: 2_000, max_delay: '1s' }),
});

/** Where a job's rows go: two jobs loading into the same place would overwrite each other's checkpoint. */
function place(destination: z.infer<typeof DestinationSchema>, name: string): string {
  if (destination.kind === 'files') return `files ${destination.dir}`;
  if (destination.kind === 'duckdb') return `duckdb ${destination.path} table ${destination.table ?? name}`;
  return `postgres ${destination.url.replace(/\/\/[^@/]*@/, '//')} table ${destination.schema}.${destination.table ?? name}`;
}

export const ExportConfigSchema = z
  .strictObject({
    source: z
      .strictObject({ url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL, e.g. "http://127.0.0.1:3000"' }).default('http://127.0.0.1:3000') })
      .default({ url: 'http://127.0.0.1:3000' }),
    exports: z.array(ExportSchema).min(1, 'no export: add at least one [[exports]] table'),
  })
  .superRefine(({ exports }, context) => {
    const names = new Map<string, number>();
    const places = new Map<string, number>();
    exports.forEach((job, index) => {
      const named = names.get(job.name);
      if (named !== undefined) context.addIssue({ code: 'custom', path: ['exports', index, 'name'], message: `${JSON.stringify(job.name)} is the name of exports[${named}] too` });
      if (job.event_type !== undefined && Object.keys(job.columns).length > 0) {
        context.addIssue({
          code: 'custom',
          path: ['exports', index, 'columns'],
          message: `the columns of event_type ${JSON.stringify(job.event_type)} are the schema's: declare no columns beside it`,
        });
      } else names.set(job.name, index);
      const where = place(job.destination, job.name);
      const taken = places.get(where);
      if (taken !== undefined) context.addIssue({ code: 'custom', path: ['exports', index, 'destination'], message: `exports[${taken}] loads into the same place (${where})` });
      else places.set(where, index);
    });
  });
export type ExportConfig = z.infer<typeof ExportConfigSchema>;
export type ExportJobConfig = ExportConfig['exports'][number];
