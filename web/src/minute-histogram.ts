export const MINUTE_MS = 60_000;
export const HOUR_MINUTES = 60;

export interface MinuteBar {
  /** Start of the minute, ms since the epoch. */
  start: number;
  count: number;
  /** False for minutes before what the page could load: their count is not known. */
  known: boolean;
}

/** Blobs per minute by timestamp (ms), over the last hour; older minutes are dropped. */
export class MinuteHistogram {
  private readonly counts = new Map<number, number>();
  /** Minutes before this one (an index, ms / 60,000) are only partly counted. */
  private knownFrom = -Infinity;

  add(ms: number): void {
    const minute = Math.floor(ms / MINUTE_MS);
    this.counts.set(minute, (this.counts.get(minute) ?? 0) + 1);
  }

  /** What the page loaded starts at `ms`: minutes before that minute are shown as unknown. */
  knownSince(ms: number): void {
    this.knownFrom = Math.max(this.knownFrom, Math.floor(ms / MINUTE_MS) + 1);
  }

  /** The 60 minutes ending with the one of `nowMs`, oldest first. */
  bars(nowMs: number): MinuteBar[] {
    const last = Math.floor(nowMs / MINUTE_MS);
    const first = last - HOUR_MINUTES + 1;
    for (const minute of this.counts.keys()) if (minute < first) this.counts.delete(minute);
    return Array.from({ length: HOUR_MINUTES }, (_, i) => {
      const minute = first + i;
      return { start: minute * MINUTE_MS, count: this.counts.get(minute) ?? 0, known: minute >= this.knownFrom };
    });
  }
}
