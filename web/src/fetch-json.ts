import { authHeaders } from './read-token.js';

/** The read token is missing or wrong (401): the page asks for it. */
export class UnauthorizedError extends Error {
  override readonly name = 'UnauthorizedError';
}

/** GET a JSON answer of the service, with the read token when one is known. */
export async function fetchJson(path: string): Promise<unknown> {
  const res = await fetch(path, { headers: { Accept: 'application/json', ...authHeaders() } });
  if (res.status === 401) throw new UnauthorizedError(`${path} needs the read token`);
  if (!res.ok) throw new Error(`${path} answered ${res.status}`);
  return res.json();
}
