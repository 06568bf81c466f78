// CouchDB as tests and benchmarks reach it directly (not through the service): its admin's
// Basic auth, and dropping the databases a run created.

/** A CouchDB server: its URL without credentials, and whom to authenticate as (none: empty). */
export interface CouchServer {
  url: string;
  username: string;
  password: string;
}

/** The `Authorization` value of HTTP Basic auth. */
export const basicAuth = (username: string, password: string): string => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

/** The headers that authenticate as the server's user; none when it has no credentials. */
export const couchHeaders = ({ username, password }: CouchServer): Record<string, string> =>
  username === '' && password === '' ? {} : { authorization: basicAuth(username, password) };

/** A server URL (COUCHDB_URL, which may hold `user:password@`) as a CouchServer. */
export function couchServer(serverUrl: string): CouchServer {
  const url = new URL(serverUrl);
  const server = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  url.username = '';
  url.password = '';
  return { url: url.toString().replace(/\/+$/, ''), ...server };
}

/** Deletes a database, whatever state it is in (absent too): a run's cleanup, which must not fail it. */
export async function dropCouchDb(server: CouchServer, db: string): Promise<void> {
  await fetch(`${server.url}/${encodeURIComponent(db)}`, { method: 'DELETE', headers: couchHeaders(server) }).catch(() => undefined);
}
