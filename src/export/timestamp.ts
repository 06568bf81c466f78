// A blob's `timestamp` is unix time as its client posted it: seconds from some clients,
// milliseconds from others (the service stores it as given). The export reads it as a real
// instant, for the `at` column, for time filters and for time windows.

/**
 * Below this a timestamp is seconds, at or above it milliseconds: 1e11 s is the year 5138, which
 * no blob will claim, while 1e11 ms is 1973-03-03, before any blob was posted. The one cost: a
 * millisecond timestamp before March 1973 would be read as seconds.
 */
export const SECONDS_BELOW = 1e11;

/**
 * The instants an `at` (or a timestamptz cell) may hold: years 1 to 9999, which every destination
 * writes and parses as an ordinary ISO text (PostgreSQL refuses year 0, and a JavaScript Date
 * past 9999 prints as "+010000-…", which neither PostgreSQL nor DuckDB reads).
 */
const EARLIEST_MS = new Date('0001-01-01T00:00:00.000Z').getTime();
const LATEST_MS = new Date('9999-12-31T23:59:59.999Z').getTime();

/** The timestamp in milliseconds, whichever unit it was posted in. */
export function timestampMs(timestamp: number): number {
  return timestamp < SECONDS_BELOW ? timestamp * 1000 : timestamp;
}

/**
 * The blob's time as a Date, for the `at` column. A timestamp past the year 9999 (only possible in
 * milliseconds, up to 2^53) is clamped to 9999-12-31T23:59:59.999Z rather than failing the load;
 * the `timestamp` column keeps the value as posted.
 */
export function timestampToDate(timestamp: number): Date {
  const ms = timestampMs(timestamp);
  return new Date(Math.min(Math.max(ms, EARLIEST_MS), LATEST_MS));
}

/** Whether a millisecond instant is one a destination can hold (years 1 to 9999). */
export function isStorableMs(ms: number): boolean {
  return ms >= EARLIEST_MS && ms <= LATEST_MS;
}
