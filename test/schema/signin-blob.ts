/** A sign-in blob as Persona posted it (as bench/lib/blobs.ts's kpiBlob, which tests may not import): it fits examples/browserid-signin.schema.toml. */
export function signinBlob(i: number, change: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    timestamp: 1_338_000_000 + i,
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
      ['assertion_generated', 3986],
    ],
    session: `s${i}`,
    ...change,
  };
}
