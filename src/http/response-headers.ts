/**
 * Sent with every answer: browsers must not guess a type other than the one given (a JSON blob
 * read as HTML), and no URL of this service, tokens in queries included, leaves in a Referer.
 */
export const RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};
