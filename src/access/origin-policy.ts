import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import type { ErrorBody } from 'kpiggybank-client/wire';

/** A request refused for where it comes from: a Host this service does not answer for (421), or a foreign browser origin (403). */
export class OriginRefusal extends Error {
  override readonly name = 'OriginRefusal';

  constructor(
    readonly status: 421 | 403,
    readonly code: 'unknown_host' | 'forbidden_origin',
    readonly reason: string,
  ) {
    super(reason);
  }

  get body(): ErrorBody {
    return { error: this.code, reason: this.reason };
  }
}

export interface OriginPolicyOptions {
  /** The address the service listens on (HOST): on loopback, only loopback names are accepted as Host. */
  listenHost: string;
  /** Origins other than the service's own whose browsers may call it (`*`: any). */
  allowedOrigins: readonly string[];
  /** Host names accepted besides the loopback ones (`*`: any); when set, checked whatever the listen address. */
  allowedHosts?: readonly string[] | undefined;
}

/** Which hosts and origins may call the service: refusals, and the CORS headers of allowed foreign origins. */
export interface OriginPolicy {
  /** Why this request is refused, or undefined when it may go on. */
  refusal(headers: IncomingHttpHeaders): OriginRefusal | undefined;
  /** Headers that let a browser of an allowed foreign origin read the answer; empty otherwise. */
  corsHeaders(headers: IncomingHttpHeaders): Record<string, string>;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

function isLoopback(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (LOOPBACK_NAMES.has(name) || name.endsWith('.localhost')) return true;
  return isIP(name) === 4 ? name.startsWith('127.') : name === '::1';
}

/** The host name of a Host header, without the port (IPv6 keeps its brackets off). */
function hostName(host: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed) return bracketed[1]!.toLowerCase();
  return host.replace(/:\d+$/, '').toLowerCase();
}

/** `scheme://host[:port]` as a browser sends it in `Origin`, or 'null'. */
function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * Browsers send `Origin` with every cross-origin request, a WebSocket's and a form POST's too:
 * one that is not the service's own (its host equals the `Host` it asked) is refused unless
 * ALLOWED_ORIGINS names it, so that a page elsewhere can neither store blobs (CSRF, as a form
 * needs no token when none is set) nor read the feed. Clients that are not browsers send no
 * `Origin` and are not affected. On loopback a `Host` that is not a loopback name is refused:
 * a page whose own name was rebound to 127.0.0.1 (DNS rebinding) sends its own name, and would
 * otherwise count as same-origin.
 */
export function originPolicy({ listenHost, allowedOrigins, allowedHosts }: OriginPolicyOptions): OriginPolicy {
  const anyOrigin = allowedOrigins.includes('*');
  const origins = new Set(allowedOrigins.map((origin) => origin.toLowerCase()));
  const hosts = allowedHosts ?? (isLoopback(listenHost) ? [] : undefined);
  const anyHost = hosts === undefined || hosts.includes('*');
  const hostNames = new Set(hosts?.map((host) => host.toLowerCase()));

  const foreignOrigin = (headers: IncomingHttpHeaders): string | undefined => {
    const { origin, host } = headers;
    if (origin === undefined) {
      // a browser too old to send Origin on a form POST still says where the request came from
      return headers['sec-fetch-site'] === 'cross-site' ? 'a cross-site page' : undefined;
    }
    if (host !== undefined && originHost(origin) === host.toLowerCase()) return undefined;
    return anyOrigin || origins.has(origin.toLowerCase()) ? undefined : origin;
  };

  return {
    refusal(headers) {
      const { host } = headers;
      if (!anyHost && host !== undefined && !isLoopback(hostName(host)) && !hostNames.has(hostName(host))) {
        return new OriginRefusal(
          421,
          'unknown_host',
          `this service does not answer for the host ${JSON.stringify(host.slice(0, 100))}: it listens on ${listenHost}; set ALLOWED_HOSTS to add a name`,
        );
      }
      const foreign = foreignOrigin(headers);
      if (foreign === undefined) return undefined;
      return new OriginRefusal(
        403,
        'forbidden_origin',
        `requests from ${JSON.stringify(foreign.slice(0, 100))} are not allowed: only the service's own pages, or origins listed in ALLOWED_ORIGINS, may call it from a browser`,
      );
    },

    corsHeaders(headers): Record<string, string> {
      const { origin, host } = headers;
      if (origin === undefined || (host !== undefined && originHost(origin) === host.toLowerCase())) return {};
      if (!anyOrigin && !origins.has(origin.toLowerCase())) return {};
      return { 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': 'Retry-After, X-Drain-Count', Vary: 'Origin' };
    },
  };
}

/** What an allowed foreign origin's preflight (OPTIONS) is told it may send. */
export const PREFLIGHT_HEADERS = {
  'Access-Control-Allow-Methods': 'GET, POST, DELETE',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, Content-Encoding',
  'Access-Control-Max-Age': '600',
};
