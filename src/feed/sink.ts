import type { SharedBatch } from './shared-batch.js';

type Transport = 'ws' | 'stream';

/** Why the server ends a subscription (the WebSocket close codes are in the wire contract). */
export type EndReason = 'too_slow' | 'invalid_since' | 'going_away';

/** Where a subscription's messages go: a WebSocket, or a streamed HTTP response. */
export interface FeedSink {
  readonly transport: Transport;
  readonly closed: boolean;
  /** Queues one change message (UTF-8 JSON, encoded once for every subscriber); never blocks. */
  send(data: Buffer): void;
  /**
   * Queues a batch of live changes that every subscriber gets alike, in one write. `batch` is the
   * same array for all of them, so the transport encodes it (frames, lines) once for all.
   */
  sendBatch(batch: SharedBatch): void;
  /** The subscriber is live from `seq` on (a WebSocket tells its client; the legacy stream cannot). */
  live(seq: string | null): void;
  /** Bytes queued for this subscriber and not yet handed to the operating system. */
  queuedBytes(): number;
  end(reason: EndReason, message: string): void;
  /** Hold writes until `uncork`, so a batch of changes leaves in one system call, not one per change. */
  cork(): void;
  uncork(): void;
}
