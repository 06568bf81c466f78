// A connection to the destination's server, as the loader and `export status` open it, and the one
// line a pg or network failure is reported as.
import pg from 'pg';

/** How long a connection attempt may take before it is a failure the user hears of. */
const CONNECT_TIMEOUT_MS = 10_000;

/** A connected client; when the connection fails, the client is ended and the error thrown as it came. */
export async function connect(url: string, applicationName: string, onLost: (error: Error) => void): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: applicationName });
  client.on('error', onLost);
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

/** One line from whatever pg or the network threw (an AggregateError of connection attempts has no message of its own). */
export function reason(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return reason(error.errors[0]);
  if (error instanceof Error) return error.message || (error as { code?: string }).code || error.name;
  return String(error);
}
