import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';
import { HttpError } from './http-error.js';

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

/** Lets the request through when no token is configured, or when it carries the right one; else 401. */
export function requireToken(expected: string | undefined, what: 'read' | 'write' | 'drain'): RequestHandler {
  return (req, _res, next) => {
    if (expected === undefined || tokenMatches(expected, givenToken(req.headers, req.query.token))) {
      next();
      return;
    }
    next(
      new HttpError(401, 'unauthorized', `${what}s need the ${what} token: send Authorization: Bearer <token>`, undefined, {
        'WWW-Authenticate': 'Bearer',
      }),
    );
  };
}
