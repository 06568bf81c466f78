// Dependency-free (no zod, no Node API): the page loads this file as it is (see backoff.ts).

/** WebSocket close codes of the change feed; every one but `invalid_since` invites a resume with `since`. */
export const FeedCloseCode = {
  /** The server is shutting down. */
  going_away: 1001,
  /** Missing or wrong read token. */
  unauthorized: 4401,
  /** `since` is not a sequence this store knows. */
  invalid_since: 4400,
  /** The subscriber read too slowly: its send queue passed FEED_QUEUE_BYTES. */
  too_slow: 4008,
} as const;
