// The event types the jobs of a run name (`event_type`), read from the service's declared schema
// (GET /wsapi/schema) once at the start: which blobs each job keeps (the type's `when`) and the
// columns its table has (schema-columns.ts). A job without `event_type` is as before.
import type { KpiggybankClient } from 'kpiggybank-client';
import { type EventType, eventTypeOf, type StoredBlob } from 'kpiggybank-client/wire';
import type { ExportConfig } from './config.js';
import { namingJob } from './destination.js';
import { SourceError } from './feed-source.js';
import { eventTypeNamed } from './schema-columns.js';

/** A job's event type, and which blobs are of it. */
export interface JobEventType {
  readonly type: EventType;
  /** Whether the service takes the blob for this type: the first type whose `when` it matches is (eventTypeOf, as at ingest). */
  of(blob: StoredBlob): boolean;
}

/** The event type of each job that names one, by job name; throws SourceError when the service declares no schema, or not the type. */
export async function jobEventTypes(config: ExportConfig, client: KpiggybankClient): Promise<Map<string, JobEventType>> {
  const typed = new Map<string, JobEventType>();
  const jobs = config.exports.filter((job) => job.event_type !== undefined);
  if (jobs.length === 0) return typed;
  const schema = await client.schema();
  for (const job of jobs) {
    const name = job.event_type as string;
    if (schema === undefined) {
      throw new SourceError(
        namingJob(job.name, `event_type "${name}": the service at ${config.source.url} declares no event schema (start it with SCHEMA_FILE: see docs/schema.md)`),
      );
    }
    try {
      const type = eventTypeNamed(schema.types, name);
      typed.set(job.name, { type, of: (blob) => eventTypeOf(schema, blob) === type });
    } catch (error) {
      throw new SourceError(namingJob(job.name, `event_type: ${(error as Error).message}`));
    }
  }
  return typed;
}
