/** Runs asynchronous steps one after another, each once the one before has settled (resolved or not). */
export class OneAtATime {
  private last: Promise<unknown> = Promise.resolve();

  run<T>(step: () => Promise<T>): Promise<T> {
    const done = this.last.then(step, step);
    this.last = done.catch(() => undefined);
    return done;
  }

  /** Resolves once every step queued so far has settled. */
  async idle(): Promise<void> {
    await this.last;
  }
}
