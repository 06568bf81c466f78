/** A clock that moves only when told: a lease runs out when the test says so, not after a real wait. */
export class ManualClock {
  constructor(private ms = Date.now()) {}

  readonly now = (): number => this.ms;

  advance(ms: number): void {
    this.ms += ms;
  }
}
