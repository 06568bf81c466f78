// SQL identifiers as PostgreSQL reads them: quoted (so a name keeps its case and cannot inject),
// and short enough that PostgreSQL does not truncate them (two partitions' names truncated alike
// would collide).

/** PostgreSQL's NAMEDATALEN - 1: longer identifiers are silently truncated. */
export const MAX_IDENTIFIER_BYTES = 63;

/** `"name"`, with embedded quotes doubled. */
export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** `"schema"."name"`. */
export const qualified = (schema: string, name: string): string => `${quoteIdent(schema)}.${quoteIdent(name)}`;
