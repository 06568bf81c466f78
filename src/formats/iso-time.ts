// ISO 8601 instants as text: read by the exporter (time filters, timestamptz cells) and by the
// event schema's `timestamp` fields at ingest, so both take the same texts.

/**
 * An ISO 8601 date (`2026-01-31`, midnight UTC) or date-time with `Z` or an offset
 * (`2026-01-31T10:00:00Z`, `2026-01-31 10:00:00.123+02:00`), in milliseconds; undefined for any
 * other text, including a date-time without an offset (its zone would be the exporter's, a guess).
 */
export function parseIsoMs(text: string): number | undefined {
  const match = ISO_TIME.exec(text);
  if (match === null) return undefined;
  const [, date = '', time] = match;
  // V8 takes 2026-02-30 as March 2: the day must exist.
  const day = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== date) return undefined;
  const ms = time === undefined ? day.getTime() : Date.parse(`${date}T${time}`);
  return Number.isNaN(ms) ? undefined : ms;
}

// Date.parse alone would also take "March 7" or "2026-01-31T10:00" (as local time): the shape is checked first.
const ISO_TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|z|[+-]\d{2}:?\d{2})))?$/;

/** An ISO 8601 date-time with a time and `Z` or an offset (not a bare date): what a `timestamp` field may hold as text. */
export function isIsoDateTime(text: string): boolean {
  return text.length > 10 && parseIsoMs(text) !== undefined;
}
