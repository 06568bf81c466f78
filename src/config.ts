import path from 'node:path';
import { z } from 'zod';
import { defaultMaxConnections, openFilesLimit } from './fd-limit.js';
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

const integer = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.string().regex(/^\d+$/).transform(Number).pipe(z.int().min(min).max(max));
const port = (what: string, fallback: number) =>
  integer(0, 65535).default(fallback).describe(`an integer port 0–65535 (${what})`);
const positiveInt = (what: string, fallback: number) =>
  integer(1).default(fallback).describe(`a positive integer (${what})`);

/** A comma-separated list, each item checked by `item`; empty items are ignored. */
const list = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .string()
    .transform((text) => text.split(',').map((part) => part.trim()).filter(Boolean))
    .pipe(z.array(item));

/**
 * Every environment variable the service reads, with the seed's names and defaults where it had
 * them. `describe` text is what an operator sees when a value is rejected. Exported for the test
 * that keeps env.sh.dist in step with it.
 */
export const EnvSchema = z.object({
  // pouchdb: the former embedded default, now a name of leveldb, so that old env files keep working
  DB_BACKEND: z.enum(['leveldb', 'couchdb', 'memory', 'dummy', 'pouchdb']).default('leveldb').describe('one of leveldb, couchdb, memory, dummy'),
  DB_HOST: z.string().default('127.0.0.1').describe('a host name or IP address'),
  DB_PORT: port('CouchDB', 5984),
  DB_NAME: z
    .string()
    .regex(/^[a-z][a-z0-9_$()+/-]*$/)
    .default('bid_kpi')
    .describe('a CouchDB database name: a lowercase letter, then lowercase letters, digits or _$()+-/'),
  DB_USER: z.string().default('kpiggybank').describe('a CouchDB user name'),
  DB_PASS: z.string().default('kpiggybank').describe('a CouchDB password'),
  COUCHDB_URL: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('an http(s) URL of a CouchDB server, credentials included, e.g. http://user:pass@host:5984'),
  HOST: z.string().default('127.0.0.1').describe('an address to listen on'),
  PORT: port('HTTP', 3000),
  MODE: z.enum(['dev', 'prod']).default('dev').describe('dev or prod'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .optional()
    .describe('one of fatal, error, warn, info, debug, trace, silent'),
  DATA_DIR: z.string().default('./data').describe('a folder for the embedded leveldb store'),
  MAX_BODY_BYTES: positiveInt('request body size limit in bytes', 1024 * 1024),
  MAX_BATCH_BLOBS: positiveInt('blobs per POST', 10_000),
  MAX_DEPTH: positiveInt('nesting depth of a blob', 32),
  BATCH_MAX_DOCS: integer(1).optional().describe('a positive integer (blobs per group-commit write; unset: 500 on couchdb, 5000 on leveldb)'),
  BATCH_CONCURRENCY: positiveInt('group-commit writes in flight', 1),
  STORE_TIMEOUT_MS: positiveInt('milliseconds before a CouchDB request counts as failed', 30_000),
  COUCHDB_LEGACY_VIEWS: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((value) => value === 'true' || value === '1')
    .describe("true or false (whether to keep the original's _design/data views on couchdb)"),
  SHUTDOWN_TIMEOUT_MS: positiveInt('milliseconds to finish in-flight requests on shutdown', 10_000),
  READ_TOKEN: z.string().optional().describe('a token that reads and the change feed must carry'),
  WRITE_TOKEN: z.string().optional().describe('a token that writes must carry'),
  DRAIN_TOKEN: z.string().optional().describe('a token that drains must carry (unset: draining is disabled)'),
  DRAIN_LEASE_MS: positiveInt('milliseconds an unused drain holds its blobs before it expires uncommitted', 600_000),
  FEED_QUEUE_BYTES: positiveInt('bytes queued for one change-feed subscriber before it is cut off', 1024 * 1024),
  FEED_PING_MS: positiveInt('milliseconds between WebSocket pings; a subscriber missing one pong is closed', 30_000),
  FEED_BATCH: positiveInt('changes read from the store at once', 500),
  FEED_HEARTBEAT_MS: positiveInt('milliseconds an idle change read waits before it returns (a heartbeat)', 2000),
  FEED_LINGER_MS: integer(0, 1000).default(2).describe('milliseconds 0–1000 the change feed gathers changes after a batch'),
  // Unset: derived from the open-file limit (fd-limit.ts), so that sockets never starve the store of descriptors.
  MAX_CONNECTIONS: integer(1).optional().describe('a positive integer (connections open at once; unset: derived from the open-file limit)'),
  // 20 s: a 1 MiB body (MAX_BODY_BYTES) still arrives at 64 KB/s; Node's own limit (300 s) let 400 unfinished bodies hold 525 MB for 322 s.
  BODY_TIMEOUT_MS: positiveInt('milliseconds a client has to send a request’s headers, and then its body', 20_000),
  // 64 MiB: 64 bodies of the largest size at once (several times that in heap once parsed); batched load uses a fraction.
  MAX_INFLIGHT_BODY_BYTES: positiveInt('bytes all request bodies in flight may hold together; beyond, 503 overloaded', 64 * 1024 * 1024),
  // 30 s: a page of 1,000 blobs (~300 KB) reaches a reader taking 10 KB/s well within it; a reader that takes nothing is cut.
  RESPONSE_IDLE_TIMEOUT_MS: positiveInt('milliseconds a response may wait for its client to read before it is cut', 30_000),
  ALLOWED_ORIGINS: list(z.union([z.literal('*'), z.literal('null'), z.url({ protocol: /^https?$/ }).refine((origin) => URL.canParse(origin) && new URL(origin).origin === origin.replace(/\/$/, ''), 'an origin has no path')]))
    .default([])
    .describe('a comma-separated list of origins (scheme://host[:port]) whose pages may call the service, or *'),
  ALLOWED_HOSTS: list(z.string().regex(/^(\*|[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])$/))
    .optional()
    .describe('a comma-separated list of host names (no port) the service answers for besides the loopback ones, or *'),
});

export type { CouchConnection };

export interface Config {
  backend: 'leveldb' | 'couchdb' | 'memory' | 'dummy';
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
  groupCommit: { maxItems: number; concurrency: number };
  storeTimeoutMs: number;
  /** couchdb: also keep the original's `_design/data` views. */
  couchLegacyViews: boolean;
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
    groupCommit: { maxItems: e.BATCH_MAX_DOCS ?? (backend === 'couchdb' ? COUCHDB_BATCH_DOCS : LEVELDB_BATCH_DOCS), concurrency: e.BATCH_CONCURRENCY },
    storeTimeoutMs: e.STORE_TIMEOUT_MS,
    couchLegacyViews: e.COUCHDB_LEGACY_VIEWS,
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
  return { ...rest, couch: { url: couch.url, username: couch.username }, tokens: { read: tokens.read !== undefined, write: tokens.write !== undefined, drain: tokens.drain !== undefined } };
}
