// The event schema file (SCHEMA_FILE): TOML like the export's config, checked by the wire's
// EventSchemaSchema (the same rules the service serves it under, at GET /wsapi/schema).
import { type EventSchema, EventSchemaSchema } from 'kpiggybank-client/wire';
import { parseTomlFile, readTomlFile } from '../formats/toml-file.js';

/** Checks a schema given as text (TOML); `file` names it in messages. Throws ConfigError, a line per mistake. */
export function parseSchema(text: string, file: string): EventSchema {
  return parseTomlFile(text, file, EventSchemaSchema);
}

/** Reads and checks the schema file. */
export async function loadSchema(file: string): Promise<EventSchema> {
  return parseSchema(await readTomlFile(file, 'the event schema SCHEMA_FILE names: see docs/schema.md'), file);
}
