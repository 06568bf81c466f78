/**
 * Stands for the timestamp in prepared bodies: the load generator writes the current unix time
 * over it before each send, so blobs arrive in time order, as they do from real clients.
 */
export const TIMESTAMP_MARK = 9_999_999_999;

/**
 * Realistic KPI blobs, about 600 bytes of JSON each, shaped like the ones the seed's clients
 * (Persona's dialog) posted: a timestamp, the browser, and an event stream.
 */
export function kpiBlob(i: number, timestamp = 1_338_000_000 + i): Record<string, unknown> {
  return {
    timestamp,
    lang: 'en-US',
    screen_size: { width: 1280, height: 800 },
    user_agent: { os: 'Macintosh', browser: 'Firefox', version: '15.0' },
    number_emails: 2,
    number_sites_signed_in: 1,
    new_account: false,
    email_type: 'secondary',
    sample_rate: 1,
    orphaned: false,
    event_stream: [
      ['screen.rp_info', 0],
      ['window.dom_loaded', 243],
      ['xhr_complete.GET/wsapi/session_context', 402],
      ['user.user_staged', 1288],
      ['screen.check_registration', 1301],
      ['xhr_complete.GET/wsapi/user_creation_status', 3380],
      ['user.user_confirmed', 3397],
      ['screen.generate_assertion', 3415],
      ['assertion_generated', 3986],
    ],
    session: `s${(i % 100_000).toString(36).padStart(8, '0')}`,
  };
}

/** One blob as JSON text: the single-blob POST body (its timestamp the mark, unless given). */
export function jsonBody(i: number, timestamp = TIMESTAMP_MARK): string {
  return JSON.stringify(kpiBlob(i, timestamp));
}

/** The legacy form body of the seed's clients: `data=<JSON text>`. */
export function formBody(i: number): string {
  return `data=${encodeURIComponent(jsonBody(i))}`;
}

/** An array of `size` blobs: the batched POST body. */
export function batchBody(i: number, size: number): string {
  return JSON.stringify(Array.from({ length: size }, (_, k) => kpiBlob(i * size + k, TIMESTAMP_MARK)));
}
