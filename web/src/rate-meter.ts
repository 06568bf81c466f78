/** Events per second over a sliding window, kept as per-second counts (so 1,000/s costs 10 numbers). */
export class RateMeter {
  private readonly seconds = new Map<number, number>();
  private readonly startedAt: number;

  constructor(
    private readonly windowMs = 10_000,
    now = Date.now(),
  ) {
    this.startedAt = now;
  }

  record(now: number, count = 1): void {
    const second = Math.floor(now / 1000);
    this.seconds.set(second, (this.seconds.get(second) ?? 0) + count);
  }

  /** Per second; while the page is younger than the window, over the time it has watched. */
  rate(now: number): number {
    const oldest = Math.floor((now - this.windowMs) / 1000);
    let total = 0;
    for (const [second, count] of this.seconds) {
      if (second <= oldest) this.seconds.delete(second);
      else total += count;
    }
    const span = Math.min(this.windowMs, Math.max(1000, now - this.startedAt));
    return (total * 1000) / span;
  }
}
