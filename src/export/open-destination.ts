// The one place that picks a job's destination by its kind. Each is imported only when a job uses
// it: pg and DuckDB's native binding cost a start that `--help`, a config mistake or a files-only
// export need not pay.
import type { ExportJobConfig } from './config.js';
import type { Destination, JobState } from './destination.js';

/** The destination of one job, not yet opened (`open()` connects and says where the job stands). */
export async function destinationFor(job: ExportJobConfig): Promise<Destination> {
  const { destination } = job;
  switch (destination.kind) {
    case 'postgres': {
      const { createPostgresDestination } = await import('./postgres/postgres-destination.js');
      return createPostgresDestination(destination, job.name);
    }
    case 'files': {
      const { createFilesDestination } = await import('./files/files-destination.js');
      return createFilesDestination(destination, job.name);
    }
    case 'duckdb': {
      const { createDuckDbDestination } = await import('./duckdb/duckdb-destination.js');
      return createDuckDbDestination(destination, job.name);
    }
  }
}

/**
 * Where the job stands, read without creating or changing anything (`export status`): a
 * destination that holds nothing of the job yet (no file, no table, no checkpoint) reads as no
 * checkpoint and 0 rows. open() would create what is missing and repair what a crash left.
 */
export async function readJobState(job: ExportJobConfig): Promise<Pick<JobState, 'checkpoint' | 'rows'>> {
  const { destination } = job;
  switch (destination.kind) {
    case 'postgres': {
      const { readPostgresState } = await import('./postgres/read-postgres-state.js');
      return readPostgresState(destination, job.name);
    }
    case 'files': {
      const { readFilesState } = await import('./files/read-files-state.js');
      return readFilesState(destination, job.name);
    }
    case 'duckdb': {
      const { readDuckDbState } = await import('./duckdb/read-duckdb-state.js');
      return readDuckDbState(destination, job.name);
    }
  }
}

/** Where a destination is, as logs and `export status` print it: a PostgreSQL URL's password is never shown. */
export function describeDestination(job: ExportJobConfig): string {
  const { destination } = job;
  switch (destination.kind) {
    case 'files':
      return `files in ${destination.dir} (${destination.format}${destination.gzip ? ', gzip' : ''})`;
    case 'duckdb':
      return `duckdb ${destination.path}, table ${destination.table ?? job.name}`;
    case 'postgres':
      return `postgres ${withoutPassword(destination.url)}, table ${destination.schema}.${destination.table ?? job.name}`;
  }
}

/** The URL with its password (if any) replaced by ***; a URL that does not parse is cut to its scheme. */
function withoutPassword(url: string): string {
  if (!URL.canParse(url)) return `${url.split(':')[0] ?? 'postgres'}://(a URL that does not parse)`;
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  // a password in the query (?password=…) is one too
  for (const key of [...parsed.searchParams.keys()]) if (/pass/i.test(key)) parsed.searchParams.set(key, '***');
  return parsed.toString();
}
