// A Date as PostgreSQL's timestamptz input. toISOString() writes years past 9999 as "+010000",
// which PostgreSQL does not read; it reads "10000-01-01 00:00:00+00" (its range ends in 294276).

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** UTC, to the millisecond; undefined for an invalid Date or a year before 1 (PostgreSQL's BC years are not worth a blob's timestamp). */
export function pgTimestamp(date: Date): string | undefined {
  const year = date.getUTCFullYear();
  if (!Number.isFinite(year) || year < 1) return undefined;
  if (year <= 9999) return date.toISOString();
  return `${year}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}.${pad(date.getUTCMilliseconds(), 3)}+00`;
}
