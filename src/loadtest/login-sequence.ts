/**
 * The KPI blob of one sign-in, as the seed's load test threw them "a thousand login sequences"
 * at a time: about 600 bytes of user agent, screen, locale and the timed event stream.
 */
// a type, not an interface: it must fit the client's index-signed KpiBlob
export type LoginBlob = {
  _id: string;
  timestamp: number;
  run: string;
  n: number;
  lang: string;
  screen_size: { width: number; height: number };
  user_agent: { os: string; browser: string; version: number };
  number_emails: number;
  number_sites_logged_in: number;
  new_account: boolean;
  event_stream: [string, number][];
};

const LANGS = ['en-US', 'de', 'fr', 'es-ES', 'pt-BR', 'ja'];
const AGENTS = [
  { os: 'Windows NT 6.1', browser: 'Firefox', version: 13 },
  { os: 'Macintosh', browser: 'Safari', version: 5 },
  { os: 'Linux', browser: 'Chrome', version: 19 },
];
const STEPS = ['screen.rp_info', 'user.user_staged', 'screen.check_registration', 'authenticate.enter_password', 'user.logged_in', 'assertion_generated'];

/** The n-th sign-in of a run: deterministic, so that what comes back can be compared with what was sent. */
export function loginBlob(run: string, n: number, timestamp: number): LoginBlob {
  let at = 0;
  return {
    _id: `${run}-${n}`, // a chosen id makes a retried POST harmless
    timestamp,
    run,
    n,
    lang: LANGS[n % LANGS.length]!,
    screen_size: { width: 1024 + (n % 4) * 256, height: 768 + (n % 3) * 128 },
    user_agent: AGENTS[n % AGENTS.length]!,
    number_emails: 1 + (n % 3),
    number_sites_logged_in: n % 7,
    new_account: n % 10 === 0,
    event_stream: STEPS.map((step, i) => {
      at += 150 + ((n * (i + 3)) % 900);
      return [step, at];
    }),
  };
}
