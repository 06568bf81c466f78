import { authHeaders } from './read-token.js';

/** The read token is missing or wrong (401): the page asks for it. */
export class UnauthorizedError extends Error {
  override readonly name = 'UnauthorizedError';
}

/** GET a JSON answer of the service, with the read token when one is known; with `missingIsUndefined`, a 404 is undefined. */
export async function fetchJson(path: string, { missingIsUndefined = false } = {}): Promise<unknown> {
  const res = await fetch(path, { headers: { Accept: 'application/json', ...authHeaders() } });
  if (res.status === 401) throw new UnauthorizedError(`${path} needs the read token`);
  if (res.status === 404 && missingIsUndefined) return undefined;
  if (!res.ok) throw new Error(`${path} answered ${res.status}`);
  return res.json();
}
