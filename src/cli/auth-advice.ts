/** The environment variable each command takes its token from: the same name the service reads. */
export type TokenVariable = 'DRAIN_TOKEN' | 'READ_TOKEN';

/** The token a command sends, and where it came from: the flag, the environment, or nowhere. */
export interface Credentials {
  token: string | undefined;
  from: 'flag' | 'env' | undefined;
  variable: TokenVariable;
}

const WHAT: Record<TokenVariable, string> = { DRAIN_TOKEN: 'drain', READ_TOKEN: 'read' };

/**
 * What to set when the service refused the command's token (401) or has draining disabled (403):
 * the service's own reason tells an HTTP client which header to send, not a CLI user which flag
 * or variable to set. Undefined for any other answer.
 */
export function authAdvice(status: number, code: string | undefined, { from, variable }: Credentials): string | undefined {
  const what = WHAT[variable];
  if (status === 401) {
    if (from === 'flag')
      return `the service refused the token given with --token: pass its ${what} token (the service's ${variable}) with --token T, or set ${variable} and leave --token out`;
    if (from === 'env') return `the service refused the token in ${variable}: set ${variable} to the service's ${what} token, or pass it with --token T`;
    return `the service needs its ${what} token (the service's ${variable}) and none was given: pass --token T, or set ${variable}`;
  }
  if (status === 403 && code === 'forbidden' && variable === 'DRAIN_TOKEN') {
    return `draining is disabled on the service: start it with DRAIN_TOKEN set, then give this command the same token with --token T or DRAIN_TOKEN`;
  }
  return undefined;
}
