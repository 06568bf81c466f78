/** Why a blob breaks the declared event schema: what a 400 schema_violation carries. */
export interface SchemaViolation {
  /** A sentence, e.g. `user_agent.version is a number; signin wants string ≤ 16`. */
  readonly reason: string;
  /** The field at fault, dotted (`user_agent.version`, an array's item as `event_stream.3`); the discriminator field(s) for a blob of no declared type. */
  readonly path: string;
  /** What the schema wants there, short: `string ≤ 16`, `integer`, `present (required)`. */
  readonly expected: string;
  /** The event type the blob was checked as; absent when it is of none. */
  readonly type?: string;
}

/** A compiled event schema: checks a blob (cutting the over-long strings of `truncate` fields in place). */
export interface SchemaChecker {
  check(blob: Record<string, unknown>): SchemaViolation | undefined;
}
