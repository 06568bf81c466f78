// How a PostgreSQL server is named in logs, errors and status: host, port and database, never
// the password (nor the user, which is half a credential). Any message that reaches the user
// is also scrubbed of the password, in case a driver message ever quotes the URL.

/** `host:port/db` from a postgres:// URL (`PostgreSQL` when the URL does not parse). */
export function serverName(url: string): string {
  try {
    const parsed = new URL(url);
    const db = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres';
    return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}/${db}`;
  } catch {
    return 'PostgreSQL (its URL does not parse)';
  }
}

/** The URL's passwords: its user's, and a `?password=` (which pg reads too). */
function passwordsOf(url: string): string[] {
  try {
    const parsed = new URL(url);
    return [decodeURIComponent(parsed.password), ...parsed.searchParams.getAll('password')];
  } catch {
    // An unparsable URL: the text between "user:" and "@", as pg would read it.
    return [/^[a-z]+:\/\/[^:/@]*:([^@]*)@/i.exec(url)?.[1] ?? ''];
  }
}

/** `message` without any occurrence of the URL's passwords (or of PGPASSWORD). */
export function scrubbed(message: string, url: string): string {
  let out = message;
  for (const secret of [...passwordsOf(url), process.env.PGPASSWORD]) {
    if (secret) out = out.replaceAll(secret, '***');
  }
  return out;
}
