import { FeedMessageSchema, type ChangeMessage, type FeedMessage } from 'kpiggybank-client/wire';
import { WebSocket, type ClientOptions } from 'ws';

export interface Closed {
  code: number;
  reason: string;
}

/** A test subscriber: keeps every message, validated against the wire schema. */
export class FeedClient {
  readonly messages: FeedMessage[] = [];
  readonly closed: Promise<Closed>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.messages.push(FeedMessageSchema.parse(JSON.parse(String(data)))));
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  }

  static async connect(wsUrl: string, query: Record<string, string> = {}, options: ClientOptions = {}): Promise<FeedClient> {
    const url = new URL(wsUrl);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const client = new FeedClient(new WebSocket(url, options));
    await new Promise<void>((resolve, reject) => {
      client.ws.once('open', () => resolve());
      client.ws.once('error', reject);
    });
    return client;
  }

  get changes(): ChangeMessage[] {
    return this.messages.filter((m): m is ChangeMessage => m.type === 'change');
  }

  /** The seq to resume from: the last change's, else the `live` message's. */
  get lastSeq(): string | null {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const m = this.messages[i]!;
      if (m.seq !== null) return m.seq;
    }
    return null;
  }

  get isLive(): boolean {
    return this.messages.some((m) => m.type === 'live');
  }

  async close(): Promise<void> {
    this.ws.close();
    await this.closed;
  }
}

/** Polls until `check` holds (or throws after `timeoutMs`). */
export async function until(check: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
