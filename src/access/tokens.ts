import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/*
 * The service's tokens as a request carries them, for every door that checks one: the HTTP
 * routes (http/auth.ts, the ingest fast path) and the WebSocket feed (feed/ws-relay.ts).
 */

const digest = (text: string) => new Uint8Array(createHash('sha256').update(text).digest());

/** Constant time whatever the lengths: both sides are hashed to 32 bytes first. */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  return given !== undefined && timingSafeEqual(digest(expected), digest(given));
}

/** The token of `Authorization: Bearer <token>`, else a `token` query parameter (for browsers' WebSockets). */
export function givenToken(headers: IncomingHttpHeaders, queryToken: unknown): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '');
  if (match) return match[1]!.trim();
  return typeof queryToken === 'string' ? queryToken : undefined;
}
