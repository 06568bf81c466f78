// The export's config file (TOML), checked by one zod schema; every mistake is reported with its
// path, e.g. `exports[1].columns.lang: unknown type "strng"`.
import { z } from 'zod';

export const COLUMN_TYPES = ['text', 'bigint', 'double', 'boolean', 'timestamptz', 'json'] as const;

const ColumnTypeSchema = z.enum(COLUMN_TYPES, { error: (issue) => `unknown type ${JSON.stringify(issue.input)} (one of ${COLUMN_TYPES.join(', ')})` });

/** `lang = "text"` (path = the name), or `browser = { path = "user_agent.browser", type = "text" }`. */
const ColumnSchema = z.preprocess((v) => (typeof v === "string" ? { type: v } : v), z.strictObject({ path: z.string().min(1).optional(), type: ColumnTypeSchema }));

const FilesSchema = z.strictObject({
  kind: z.literal('files'),
  dir: z.string().min(1),
  format: z.enum(['ndjson', 'csv']).default('ndjson'),
  /** One file per window of blob time ("1h", "15m", "1d") … */
  window: z.string().optional(),
  /** … or per this many blobs. */
  max_blobs: z.int().positive().optional(),
  gzip: z.boolean().default(false),
});
const DuckDbSchema = z.strictObject({ kind: z.literal('duckdb'), path: z.string().min(1), table: z.string().optional() });
const PostgresSchema = z.strictObject({
  kind: z.literal('postgres'),
  /** postgres://user@host:port/db; the password from PGPASSWORD or the URL (never logged). */
  url: z.string().min(1),
  table: z.string().optional(),
  schema: z.string().default('public'),
  partition_days: z.int().positive().default(7),
  sync_table: z.string().default('kpiggybank_sync'),
});
const DestinationSchema = z.discriminatedUnion('kind', [FilesSchema, DuckDbSchema, PostgresSchema]);

const FilterSchema = z.strictObject({
  /** Keep a blob only when this field's value is one of `values` (KMDB's whitelisted events). */
  allow: z.strictObject({ field: z.string().min(1), values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1) }).optional(),
  /** Drop the blobs of these identities (KMDB's ignored users). */
  ignore: z.strictObject({ field: z.string().min(1), values: z.array(z.union([z.string(), z.number()])).min(1) }).optional(),
  /** Blob time range, inclusive, in the blobs' own unit or as an ISO date. */
  from: z.union([z.int(), z.iso.datetime({ offset: true }), z.iso.date()]).optional(),
  to: z.union([z.int(), z.iso.datetime({ offset: true }), z.iso.date()]).optional(),
});

const ExportSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'name must be lowercase letters, digits and _, starting with a letter'),
  destination: DestinationSchema,
  columns: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), ColumnSchema).default({}),
  /** Add a nullable column for each new top-level field seen in the data. */
  infer: z.boolean().default(true),
  include_deleted: z.boolean().default(false),
  filter: FilterSchema.default({}),
  batch: z.strictObject({ max_blobs: z.int().positive().default(10_000), max_delay: z.string().default('1s') }).default({ max_blobs: 10_000, max_delay: '1s' }),
});

export const ExportConfigSchema = z.strictObject({
  source: z.strictObject({ url: z.url().default('http://127.0.0.1:3000') }).default({ url: 'http://127.0.0.1:3000' }),
  exports: z.array(ExportSchema).min(1),
});
export type ExportConfig = z.infer<typeof ExportConfigSchema>;
export type ExportJobConfig = ExportConfig['exports'][number];
