// Which file a row goes to: a window of blob time (the row's `at`), aligned to whole multiples of
// its length since the Unix epoch, in UTC, and named by its start.

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;

/** The folder of the window holding `at`: `2026-12-02` (days), `2026-12-02T09` (hours), `2026-12-02T0915` (minutes), `2026-12-02T091530` (seconds). */
export function windowName(at: Date, windowMs: number): string {
  const time = at.getTime();
  // row-shape gives every row a valid `at`; a folder for the impossible keeps such a row rather than losing it.
  if (!Number.isFinite(time)) return 'invalid-time';
  const iso = new Date(Math.floor(time / windowMs) * windowMs).toISOString();
  const date = iso.slice(0, iso.indexOf('T'));
  const clock = iso.slice(iso.indexOf('T') + 1).replaceAll(':', '');
  if (windowMs % DAY === 0) return date;
  if (windowMs % HOUR === 0) return `${date}T${clock.slice(0, 2)}`;
  if (windowMs % MINUTE === 0) return `${date}T${clock.slice(0, 4)}`;
  if (windowMs % 1000 === 0) return `${date}T${clock.slice(0, 6)}`;
  return `${date}T${clock.slice(0, 10).replace('.', '')}`;
}
