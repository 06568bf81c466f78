import path from 'node:path';
import { z } from 'zod';
import { defaultMaxConnections, openFilesLimit } from './fd-limit.js';
import { BACKENDS, type Backend } from './store/backends.js';
import type { CouchConnection } from './store/couchdb/connection.js';

/** A _bulk_docs request's documents: CouchDB's own recommendation is hundreds to a few thousand. */
const COUCHDB_BATCH_DOCS = 500;
/**
 * One synced LevelDB batch: each costs an fsync whatever its size, and what waits is in memory
 * already. Under 50 × 100-blob POSTs, 5,000 rather than 500 spent 7–15 % less CPU per blob and
 * stored ~20 % more (two A/B runs).
 */
const LEVELDB_BATCH_DOCS = 5000;

/** Names that never reach a log line or an error message with their value. */
const SECRET_VARIABLES = new Set(['DB_PASS', 'COUCHDB_URL', 'READ_TOKEN', 'WRITE_TOKEN', 'DRAIN_TOKEN']);

const integer = (min: number, max = Number.MAX_SAFE_INTEGER) => z.string().regex(/^\d+$/).transform(Number).pipe(z.int().min(min).max(max));
const port = (what: string, fallback: number) => integer(0, 65535).default(fallback).describe(`an integer port 0–65535 (${what})`);
const positiveInt = (what: string, fallback: number) => integer(1).default(fallback).describe(`a positive integer (${what})`);

/** A comma-separated list, each item checked by `item`; empty items are ignored. */
const list = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .string()
    .transform((text) =>
      text
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item));

/**
 * What docs/configuration.md says of a setting, besides what it accepts (its `describe`):
 * the section it is listed in, what it does, and what an unset optional setting means.
 * `npm run docs:config` writes the page from these; test/config-docs.test.ts fails when it drifts.
 */
const about = (section: string, doc: string, unset?: string) => (unset === undefined ? { section, doc } : { section, doc, unset });

/**
 * Every environment variable the service reads, with the seed's names and defaults where it had
 * them. `describe` text is what an operator sees when a value is rejected; `meta` is the
 * setting's documentation. Exported for the tests that keep env.sh.dist and
 * docs/configuration.md in step with it.
 */
export const EnvSchema = z.object({
  // pouchdb: the former embedded default, now a name of leveldb, so that old env files keep working
  DB_BACKEND: z
    .enum([...BACKENDS, 'pouchdb'] as const)
    .default('leveldb')
    .describe('one of leveldb, couchdb, memory, dummy')
    .meta(
      about(
        'storage',
        'Where blobs are kept. `leveldb`: embedded, persistent, each 201 durable on disk. `couchdb`: an Apache CouchDB 3 server. `memory`: nothing persists (a warning at start). `dummy`: stores nothing, logs each blob and serves canned ones. `pouchdb`, the former embedded backend, starts `leveldb` with a one-line notice, first moving a pouchdb store found in `DATA_DIR` over.',
      ),
    ),
  DB_HOST: z.string().default('127.0.0.1').describe('a host name or IP address').meta(about('couchdb', 'CouchDB host.')),
  DB_PORT: port('CouchDB', 5984).meta(about('couchdb', 'CouchDB port.')),
  DB_NAME: z
    .string()
    .regex(/^[a-z][a-z0-9_$()+/-]*$/)
    .default('bid_kpi')
    .describe('a CouchDB database name: a lowercase letter, then lowercase letters, digits or _$()+-/')
    .meta(
      about(
        'storage',
        'Database name (leveldb: its files are `<DB_NAME>.leveldb` and `<DB_NAME>.leveldb-claims` in `DATA_DIR`; couchdb: the database, and `<DB_NAME>-claims` for drains).',
      ),
    ),
  DB_USER: z.string().default('kpiggybank').describe('a CouchDB user name').meta(about('couchdb', 'CouchDB user.')),
  DB_PASS: z.string().default('kpiggybank').describe('a CouchDB password').meta(about('couchdb', 'CouchDB password. Never logged, never in an error message or a metric.')),
  COUCHDB_URL: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('an http(s) URL of a CouchDB server, credentials included, e.g. http://user:pass@host:5984')
    .meta(
      about(
        'couchdb',
        'All of CouchDB at once, `http(s)://user:pass@host:port`; overrides `DB_HOST`, `DB_PORT`, `DB_USER` and `DB_PASS`. Without `user:pass`, requests go unauthenticated. Never logged.',
        'built from the four above',
      ),
    ),
  HOST: z
    .string()
    .default('127.0.0.1')
    .describe('an address to listen on')
    .meta(about('http', 'Address to listen on. On a loopback address only loopback host names are answered (see `ALLOWED_HOSTS`).')),
  PORT: port('HTTP', 3000).meta(about('http', 'Port to listen on; `0` picks a free one. A port in use stops the start with one line saying so.')),
  MODE: z
    .enum(['dev', 'prod'])
    .default('dev')
    .describe('dev or prod')
    .meta(about('http', '`dev`: a log line per request; `prod`: only warnings and errors. Logs are JSON lines on stdout, except in `dev` on a terminal: readable lines there.')),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .optional()
    .describe('one of fatal, error, warn, info, debug, trace, silent')
    .meta(about('http', 'Overrides the log level `MODE` picks.', '`info` in dev, `warn` in prod')),
  DATA_DIR: z
    .string()
    .default('./data')
    .describe('a folder for the embedded leveldb store')
    .meta(about('storage', 'leveldb: the folder of its files, created if missing. One service at a time: LevelDB locks it.')),
  MAX_BODY_BYTES: positiveInt('request body size limit in bytes', 1024 * 1024).meta(about('limits', 'Largest request body, in bytes; beyond, `413 too_large`.')),
  MAX_BATCH_BLOBS: positiveInt('blobs per POST', 10_000).meta(about('limits', 'Most blobs in one POST; beyond, `413 batch_too_large`.')),
  MAX_DEPTH: positiveInt('nesting depth of a blob', 32).meta(about('limits', 'Deepest nesting of objects and arrays in a blob; beyond, `400 too_deep`.')),
  SCHEMA_FILE: z
    .string()
    .optional()
    .describe('the path of an event schema file (TOML)')
    .meta(
      about(
        'limits',
        'The declared event schema ([schema.md](schema.md)): every blob is checked against its event type before it is stored; one that breaks it refuses its POST with `400 schema_violation`. A bad or missing file stops the start (exit 2), a line per mistake.',
        'any blob with a timestamp is accepted',
      ),
    ),
  BATCH_MAX_DOCS: integer(1)
    .optional()
    .describe('a positive integer (blobs per group-commit write; unset: 500 on couchdb, 5000 on leveldb)')
    .meta(
      about(
        'group commit',
        'Group commit: most blobs in one write (a `_bulk_docs` on couchdb; on leveldb one synced batch, each of which costs an fsync). A value set is kept.',
        '500 on couchdb, 5000 on leveldb',
      ),
    ),
  BATCH_CONCURRENCY: positiveInt('group-commit writes in flight', 1).meta(
    about(
      'group commit',
      'Group commit: bulk writes in flight at once (couchdb; leveldb writes one batch at a time). With 1, POSTs that arrive during a write leave together in the next one.',
    ),
  ),
  STORE_TIMEOUT_MS: positiveInt('milliseconds before a CouchDB request counts as failed', 30_000).meta(
    about('couchdb', 'A CouchDB request slower than this fails, and its client gets 503.'),
  ),
  COUCHDB_WRITE_QUORUM: integer(1)
    .optional()
    .describe("a positive integer (copies of each write CouchDB must have before the 201; unset: CouchDB's own, a majority of n)")
    .meta(
      about(
        'couchdb',
        "Copies of each blob CouchDB must have written before the service answers 201 (`_bulk_docs`'s `w`). On a cluster, CouchDB's default (a majority of `n`) lets a range, count or `last` read through another node miss a blob for a moment after its 201; `n` (e.g. 3) makes every copy have it first, so any read on any node sees it (docs/deployment.md, Read your writes).",
      ),
    ),
  COUCHDB_LEGACY_VIEWS: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((value) => value === 'true' || value === '1')
    .describe("true or false (whether to keep the original's _design/data views on couchdb)")
    .meta(
      about(
        'couchdb',
        "Also create and keep the original's design document `_design/data` (views `all` and `count`) for tools that read the database directly. Off by default: CouchDB then indexes every blob roughly three times over.",
      ),
    ),
  SHUTDOWN_TIMEOUT_MS: positiveInt('milliseconds to finish in-flight requests on shutdown', 10_000).meta(
    about(
      'shutdown',
      'On SIGTERM or SIGINT, how long in-flight requests may take before their connections are cut; 5 s after that the process exits (code 1) even if the store has not closed.',
    ),
  ),
  READ_TOKEN: z
    .string()
    .optional()
    .describe('a token that reads and the change feed must carry')
    .meta(
      about('access', 'When set, reads (range, get, count, last) and both change feeds need it as `Authorization: Bearer <token>` (or `?token=`). Never logged.', 'reads are open'),
    ),
  WRITE_TOKEN: z
    .string()
    .optional()
    .describe('a token that writes must carry')
    .meta(about('access', 'When set, POSTs need it. Never logged.', 'writes are open')),
  DRAIN_TOKEN: z
    .string()
    .optional()
    .describe('a token that drains must carry (unset: draining is disabled)')
    .meta(about('access', 'Enables draining; every drain request needs it. Never logged.', 'drain requests get 403')),
  DRAIN_LEASE_MS: positiveInt('milliseconds an unused drain holds its blobs before it expires uncommitted', 600_000).meta(
    about('access', 'How long a drain that nobody uses (claims, reads, asks after or commits) holds its blobs; then it expires and they can be drained again.'),
  ),
  FEED_QUEUE_BYTES: positiveInt('bytes queued for one change-feed subscriber before it is cut off', 1024 * 1024).meta(
    about('feed', 'Change feed: most bytes queued for one subscriber; beyond, it is cut off (WebSocket close 4008; the legacy stream is cut).'),
  ),
  FEED_PING_MS: positiveInt('milliseconds between WebSocket pings; a subscriber missing one pong is closed', 30_000).meta(
    about('feed', 'Change feed: WebSocket ping interval; a subscriber that misses a pong is closed.'),
  ),
  FEED_BATCH: positiveInt('changes read from the store at once', 500).meta(about('feed', 'Change feed: most changes read from the store at once.')),
  FEED_HEARTBEAT_MS: positiveInt('milliseconds an idle change read waits before it returns (a heartbeat)', 2000).meta(
    about('feed', "Change feed: how long an idle read of the store's changes waits before it returns (`/readyz`'s `heartbeatSeconds`)."),
  ),
  FEED_LINGER_MS: integer(0, 1000)
    .default(2)
    .describe('milliseconds 0–1000 the change feed gathers changes after a batch')
    .meta(
      about(
        'feed',
        'Change feed: pause after fanning out a batch, so that under load each subscriber gets one socket write per batch rather than one per change (0 costs a write per change).',
      ),
    ),
  // Unset: derived from the open-file limit (fd-limit.ts), so that sockets never starve the store of descriptors.
  MAX_CONNECTIONS: integer(1)
    .optional()
    .describe('a positive integer (connections open at once; unset: derived from the open-file limit)')
    .meta(
      about(
        'connections',
        'Connections open at once. One beyond gets `503 overloaded` to its first request and is closed; one beyond a sixteenth more (at least 16) is closed at once, unanswered.',
        "the soft open-file limit (`ulimit -n`; 1024 assumed where it cannot be read) less a quarter of it, at least 256, for the store's files; never below 64: 768 under `ulimit -n 1024`",
      ),
    ),
  // 20 s: a 1 MiB body (MAX_BODY_BYTES) still arrives at 64 KB/s; Node's own limit (300 s) let 400 unfinished bodies hold 525 MB for 322 s.
  BODY_TIMEOUT_MS: positiveInt('milliseconds a client has to send a request’s headers, and then its body', 20_000).meta(
    about(
      'connections',
      "How long a client may take to send a request's headers (from connecting, or from the answer before), then its body; a late body gets `408 body_timeout` and the connection is closed.",
    ),
  ),
  // 64 MiB: 64 bodies of the largest size at once (several times that in heap once parsed); batched load uses a fraction.
  MAX_INFLIGHT_BODY_BYTES: positiveInt('bytes all request bodies in flight may hold together; beyond, 503 overloaded', 64 * 1024 * 1024).meta(
    about(
      'connections',
      'Bytes all request bodies in flight may hold together (a body counts at its `Content-Length`, or `MAX_BODY_BYTES` when chunked, until its answer); beyond, `503 overloaded`.',
    ),
  ),
  // 30 s: a page of 1,000 blobs (~300 KB) reaches a reader taking 10 KB/s well within it; a reader that takes nothing is cut.
  RESPONSE_IDLE_TIMEOUT_MS: positiveInt('milliseconds a response may wait for its client to read before it is cut', 30_000).meta(
    about(
      'connections',
      'A response whose client takes none of its bytes for this long is cut (a range, a drain). The change feeds are exempt: `FEED_QUEUE_BYTES` bounds a slow reader there.',
    ),
  ),
  ALLOWED_ORIGINS: list(
    z.union([
      z.literal('*'),
      z.literal('null'),
      z.url({ protocol: /^https?$/ }).refine((origin) => URL.canParse(origin) && new URL(origin).origin === origin.replace(/\/$/, ''), 'an origin has no path'),
    ]),
  )
    .default([])
    .describe('a comma-separated list of origins (scheme://host[:port]) whose pages may call the service, or *')
    .meta(
      about(
        'access',
        'Browser origins that may call the service besides its own pages; they get CORS headers. Any other origin is refused `403 forbidden_origin`, WebSockets and form POSTs included. Programs that are not browsers send no `Origin` and are not affected.',
        "only the service's own pages",
      ),
    ),
  ALLOWED_HOSTS: list(z.string().regex(/^(\*|[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])$/))
    .optional()
    .describe('a comma-separated list of host names (no port) the service answers for besides the loopback ones, or *')
    .meta(
      about(
        'access',
        'Host names answered besides the loopback ones; any other `Host` gets `421 unknown_host` (against DNS rebinding). Behind a reverse proxy that forwards the public `Host`, list it here (or `*`). Set, it is checked whatever `HOST` is.',
        'on a loopback `HOST`, only `localhost`, `*.localhost`, `127.x.x.x` and `[::1]`; otherwise any',
      ),
    ),
});

export type { CouchConnection };

export interface Config {
  backend: Backend;
  /** The name DB_BACKEND gave when it was a former name of `backend` (told once at start-up). */
  backendAlias?: 'pouchdb' | undefined;
  host: string;
  port: number;
  mode: 'dev' | 'prod';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  dbName: string;
  couch: CouchConnection;
  dataDir: string;
  limits: { maxBodyBytes: number; maxBatchBlobs: number; maxDepth: number };
  /** The event schema's file (server.ts loads it before the service is built); unset: no schema. */
  schemaFile?: string | undefined;
  groupCommit: { maxItems: number; concurrency: number };
  storeTimeoutMs: number;
  /** couchdb: also keep the original's `_design/data` views. */
  couchLegacyViews: boolean;
  /** couchdb: `w` of every write (unset: CouchDB's default). */
  couchWriteQuorum?: number | undefined;
  shutdownTimeoutMs: number;
  /** Unset: reads (or writes) are open, as in the seed. */
  tokens: { read?: string | undefined; write?: string | undefined; drain?: string | undefined };
  drainLeaseMs: number;
  feed: { maxQueueBytes: number; pingMs: number; batchSize: number; waitMs: number; lingerMs: number };
  /** What clients may hold on the server: see connection-guard.ts. */
  connections: { maxConnections: number; bodyTimeoutMs: number; maxInflightBodyBytes: number; responseIdleTimeoutMs: number };
  /** Browser origins besides the service's own; host names besides the loopback ones (undefined: by the listen address). */
  origins: { allowedOrigins: string[]; allowedHosts: string[] | undefined };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function couchConnection(env: z.infer<typeof EnvSchema>): CouchConnection {
  if (!env.COUCHDB_URL) {
    return { url: `http://${env.DB_HOST}:${env.DB_PORT}`, username: env.DB_USER, password: env.DB_PASS };
  }
  // COUCHDB_URL says everything: without user:pass in it, requests go unauthenticated.
  const url = new URL(env.COUCHDB_URL);
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  return { url: url.toString().replace(/\/+$/, ''), username, password };
}

/** Parses the environment once; throws a ConfigError naming each bad variable and what it accepts. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set": `PORT= npm start` should not be an error.
  const env = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      const accepts = EnvSchema.shape[name as keyof typeof EnvSchema.shape]?.description ?? issue.message;
      const given = SECRET_VARIABLES.has(name) ? '' : ` (got ${JSON.stringify(env[name])})`;
      return `${name} must be ${accepts}${given}`;
    });
    throw new ConfigError(`invalid configuration: ${[...new Set(lines)].join('; ')}`);
  }
  const e = parsed.data;
  const backend = e.DB_BACKEND === 'pouchdb' ? 'leveldb' : e.DB_BACKEND;
  return {
    backend,
    backendAlias: e.DB_BACKEND === 'pouchdb' ? 'pouchdb' : undefined,
    host: e.HOST,
    port: e.PORT,
    mode: e.MODE,
    logLevel: e.LOG_LEVEL ?? (e.MODE === 'prod' ? 'warn' : 'info'),
    dbName: e.DB_NAME,
    couch: couchConnection(e),
    dataDir: path.resolve(e.DATA_DIR),
    limits: { maxBodyBytes: e.MAX_BODY_BYTES, maxBatchBlobs: e.MAX_BATCH_BLOBS, maxDepth: e.MAX_DEPTH },
    schemaFile: e.SCHEMA_FILE,
    groupCommit: { maxItems: e.BATCH_MAX_DOCS ?? (backend === 'couchdb' ? COUCHDB_BATCH_DOCS : LEVELDB_BATCH_DOCS), concurrency: e.BATCH_CONCURRENCY },
    storeTimeoutMs: e.STORE_TIMEOUT_MS,
    couchLegacyViews: e.COUCHDB_LEGACY_VIEWS,
    couchWriteQuorum: e.COUCHDB_WRITE_QUORUM,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    tokens: { read: e.READ_TOKEN, write: e.WRITE_TOKEN, drain: e.DRAIN_TOKEN },
    drainLeaseMs: e.DRAIN_LEASE_MS,
    feed: { maxQueueBytes: e.FEED_QUEUE_BYTES, pingMs: e.FEED_PING_MS, batchSize: e.FEED_BATCH, waitMs: e.FEED_HEARTBEAT_MS, lingerMs: e.FEED_LINGER_MS },
    connections: {
      maxConnections: e.MAX_CONNECTIONS ?? defaultMaxConnections(openFilesLimit()),
      bodyTimeoutMs: e.BODY_TIMEOUT_MS,
      maxInflightBodyBytes: e.MAX_INFLIGHT_BODY_BYTES,
      responseIdleTimeoutMs: e.RESPONSE_IDLE_TIMEOUT_MS,
    },
    origins: { allowedOrigins: e.ALLOWED_ORIGINS.map((origin) => origin.replace(/\/$/, '')), allowedHosts: e.ALLOWED_HOSTS },
  };
}

/** The configuration as it may be logged: the password and tokens are gone (only whether a token is set). */
export function describeConfig(config: Config): Record<string, unknown> {
  const { couch, tokens, ...rest } = config;
  return {
    ...rest,
    couch: { url: couch.url, username: couch.username },
    tokens: { read: tokens.read !== undefined, write: tokens.write !== undefined, drain: tokens.drain !== undefined },
  };
}
