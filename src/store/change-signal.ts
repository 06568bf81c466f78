/** Wakes the waiters of an in-process store's change reads when it writes. */
export class ChangeSignal {
  private waiters = new Set<() => void>();
  /** Counts notifies: a reader notes it before an asynchronous read, so a write during the read is not missed. */
  version = 0;

  notify(): void {
    this.version++;
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** Resolves on the next notify, or after `ms`; at once if there was a notify since `version` `seen`. */
  wait(ms: number, seen = this.version): Promise<void> {
    if (seen !== this.version) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiters.add(wake);
    });
  }
}
