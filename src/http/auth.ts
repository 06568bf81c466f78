import type { RequestHandler } from 'express';
import { givenToken, tokenMatches } from '../access/tokens.js';
import { HttpError } from './http-error.js';

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
