import type { IncomingMessage } from 'node:http';

/**
 * The bytes that request bodies in flight may hold, across every connection. A body is counted
 * at its declared Content-Length (a client that declares 1 MiB and then sends slowly holds the
 * room it asked for), or at the body limit when it has none (chunked: it may grow that far), from
 * when its handling starts until its answer: once read it is parsed, and that lives until stored.
 */
export class BodyBudget {
  private used = 0;

  constructor(
    private readonly maxBytes: number,
    /** A body over this is refused (413) by the handlers after reading none of it: counted at this. */
    private readonly maxBodyBytes: number,
  ) {}

  get inFlight(): number {
    return this.used;
  }

  /** What a request's body is counted at: 0 without one. */
  sizeOf(req: IncomingMessage): number {
    const length = req.headers['content-length'];
    if (length !== undefined) {
      const bytes = Number(length);
      return Number.isFinite(bytes) && bytes >= 0 ? Math.min(bytes, this.maxBodyBytes) : this.maxBodyBytes;
    }
    return req.headers['transfer-encoding'] !== undefined ? this.maxBodyBytes : 0;
  }

  /** Takes `bytes` if they fit (or the budget is empty: one body of any allowed size always fits). */
  take(bytes: number): boolean {
    if (bytes > 0 && this.used > 0 && this.used + bytes > this.maxBytes) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }
}
