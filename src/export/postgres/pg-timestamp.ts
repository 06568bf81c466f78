// A Date as PostgreSQL's timestamptz input, `YYYY-MM-DD HH:MM:SS.mmm+00`. Written by hand rather
// than with toISOString(), which costs 3.5 µs a call here (measured, Node 20: a third of a row's
// whole encoding) and writes years past 9999 as "+010000", which PostgreSQL does not read.

const DAY_MS = 86_400_000;
/** 0001-01-01T00:00:00Z: PostgreSQL's BC years are not worth a blob's timestamp. */
const MIN_MS = -62_135_596_800_000;
const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

// Rows come in time order, mostly many to a day: the date part is made once per day.
let cachedDay = Number.NaN;
let cachedDate = '';

function datePart(day: number): string {
  const date = new Date(day * DAY_MS);
  return `${String(date.getUTCFullYear()).padStart(4, '0')}-${PAD2[date.getUTCMonth() + 1]}-${PAD2[date.getUTCDate()]}`;
}

/** UTC, to the millisecond; undefined for an invalid Date or one before year 1. (Every valid Date after that is within PostgreSQL's range, which ends in 294276.) */
export function pgTimestamp(date: Date): string | undefined {
  const ms = date.getTime();
  if (!(ms >= MIN_MS)) return undefined;
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    cachedDate = datePart(day);
    cachedDay = day;
  }
  const inDay = ms - day * DAY_MS;
  const seconds = Math.floor(inDay / 1000);
  const millis = inDay - seconds * 1000;
  const hh = PAD2[Math.floor(seconds / 3600)] as string;
  const mm = PAD2[Math.floor(seconds / 60) % 60] as string;
  const ss = PAD2[seconds % 60] as string;
  return `${cachedDate} ${hh}:${mm}:${ss}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}+00`;
}
