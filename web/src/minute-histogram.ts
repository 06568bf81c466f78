export const MINUTE_MS = 60_000;
const HOUR_MINUTES = 60;

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
  /** Minutes before this one (an index, ms / 60,000) are not (or only partly) counted; none is until loaded. */
  private knownFrom = Infinity;

  add(ms: number): void {
    const minute = Math.floor(ms / MINUTE_MS);
    this.counts.set(minute, (this.counts.get(minute) ?? 0) + 1);
  }

  /**
   * The page loaded the last hour: all of it, or (`partialUntil`, a time in ms) only from that
   * time on, so that minute and the ones before it are shown as unknown.
   */
  loaded(partialUntil?: number): void {
    this.knownFrom = partialUntil === undefined ? -Infinity : Math.floor(partialUntil / MINUTE_MS) + 1;
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

/**
 * The busiest of the minutes whose count is known, or undefined when none is. The chart's scale
 * and its caption both come from it: a minute only partly loaded (grey) says nothing of its size.
 */
export function busiestKnown(bars: readonly MinuteBar[]): MinuteBar | undefined {
  return bars.reduce<MinuteBar | undefined>((best, b) => (b.known && (best === undefined || b.count > best.count) ? b : best), undefined);
}
