const KEY = 'kpiggybank.readToken';

/**
 * The read token the user typed, kept for this tab only (sessionStorage). Storage can be refused
 * (privacy settings): the token then lives in memory until the page is closed.
 */
let fallback: string | null = null;

function readToken(): string | null {
  try {
    return sessionStorage.getItem(KEY) ?? fallback;
  } catch {
    return fallback;
  }
}

export function saveReadToken(token: string): void {
  fallback = token;
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // kept in memory only
  }
}

/** `Authorization: Bearer` for fetches, when a token is known. */
export function authHeaders(): Record<string, string> {
  const token = readToken();
  return token === null ? {} : { Authorization: `Bearer ${token}` };
}

/** A WebSocket cannot send headers: the token goes as `?token=`. */
export function withToken(url: URL): URL {
  const token = readToken();
  if (token !== null) url.searchParams.set('token', token);
  return url;
}
