import { createServer } from 'node:http';
import type { Logger } from 'pino';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import { ConfigError, describeConfig, loadConfig, type Config } from './config.js';
import { DrainService } from './drain/drain-service.js';
import { ChangeHub } from './feed/change-hub.js';
import { attachWebSocketRelay } from './feed/ws-relay.js';
import { guardConnections, type RefusedReason } from './http/connection-guard.js';
import { boundHeapGrowth } from './heap-growth.js';
import { originPolicy } from './access/origin-policy.js';
import { createLogger, exitOnceLogged, logFormat } from './logger.js';
import { Metrics } from './observability/metrics.js';
import { listenFailure, storeOpenFailure } from './startup-failure.js';
import { createStore } from './store/create-store.js';
import { InstrumentedStore } from './observability/instrumented-store.js';
import { StoreUnavailableError } from './store/store.js';

/**
 * How long after the in-flight requests' deadline the store may take to close before the process
 * exits anyway: a store that stops answering, or a log output that blocks, must not keep it alive
 * for ever. A blob that got a 201 is already in the store, so exiting here loses none.
 */
const SHUTDOWN_MARGIN_MS = 5000;
/** How long the last log lines may take to be written before the process exits without them. */
const LOG_FLUSH_MS = 1000;

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`kpiggybank: ${error.message}`);
    process.exit(2);
  }
}

/** A mistake of the operator's: one line on stderr, and in the log without a stack (it is no fault of ours). */
function startupMistake(logger: Logger, line: string): void {
  logger.fatal(line);
  console.error(`kpiggybank: ${line}`);
}

/** The process: configuration, store, HTTP server, and a shutdown that loses no acknowledged blob. */
async function main(): Promise<void> {
  const config = readConfig();
  boundHeapGrowth(config.backend);
  const logger = createLogger(config, undefined, logFormat(config.mode, process.stdout.isTTY === true));
  const metrics = new Metrics();
  const store = new InstrumentedStore(createStore(config, logger), metrics);

  try {
    await store.open();
  } catch (error) {
    // A CouchDB that is down now may be up later: serve 503s meanwhile, and set up on first use.
    if (!(error instanceof StoreUnavailableError)) {
      const mistake = storeOpenFailure(error, config);
      if (mistake === undefined) logger.fatal({ err: error }, 'cannot open the store');
      else startupMistake(logger, mistake);
      exitOnceLogged(logger, 1, LOG_FLUSH_MS);
      return;
    }
    logger.warn({ err: error }, 'the store is unavailable; requests get 503 until it answers');
  }

  let shuttingDown = false;
  const hub = new ChangeHub(store, config.feed, metrics, logger);
  const drains = new DrainService(store, config.drainLeaseMs, metrics, logger);
  const origins = originPolicy({ listenHost: config.host, ...config.origins });
  const app = createApp({ store, metrics, logger, limits: config.limits, hub, drains, tokens: config.tokens, isShuttingDown: () => shuttingDown, origins });
  const server = createServer(app);
  const relay = attachWebSocketRelay(server, { hub, metrics, logger, readToken: config.tokens.read, pingMs: config.feed.pingMs, origins });
  // Refusals are counted, and logged at most once a minute per reason: under a flood, one line says it.
  const lastLogged = new Map<RefusedReason, number>();
  const guard = guardConnections(server, {
    ...config.connections,
    maxBodyBytes: config.limits.maxBodyBytes,
    onRefused: (reason) => {
      metrics.httpRefused.inc({ reason });
      const now = Date.now();
      if (now - (lastLogged.get(reason) ?? 0) < 60_000) return;
      lastLogged.set(reason, now);
      logger.warn({ reason, maxConnections: config.connections.maxConnections }, 'connection guard: refused or cut a client (see kpiggybank_http_refused_total)');
    },
  });
  hub.start();
  server.on('error', (error: NodeJS.ErrnoException) => {
    const mistake = listenFailure(error, config.host, config.port);
    if (mistake === undefined) logger.fatal({ err: error }, `cannot listen on ${config.host}:${config.port}`);
    else startupMistake(logger, mistake);
    exitOnceLogged(logger, 1, LOG_FLUSH_MS);
  });
  server.listen(config.port, config.host, () => {
    const { address, port } = server.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    logger.info({ url: `http://${host}:${port}`, config: describeConfig(config) }, 'kpiggybank listening');
  });

  const shutdown = async (signal: string): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const deadline = setTimeout(() => {
      logger.error(`still not stopped ${config.shutdownTimeoutMs + SHUTDOWN_MARGIN_MS} ms after ${signal}: exiting with the store not closed`);
      exitOnceLogged(logger, 1, LOG_FLUSH_MS);
    }, config.shutdownTimeoutMs + SHUTDOWN_MARGIN_MS);
    deadline.unref();
    // Stop accepting; requests already received finish and get their answers. Subscribers are
    // told to go (WebSocket close 1001; the legacy stream ends): they resume elsewhere with since.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    hub.close();
    await relay.close();
    guard.close();
    server.closeIdleConnections();
    const force = setTimeout(() => {
      logger.warn(`requests still open after ${config.shutdownTimeoutMs} ms: closing their connections`);
      server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    force.unref();
    await closed;
    clearTimeout(force);
    await store.close(); // flushes queued group-commit writes
    logger.info('stopped');
    exitOnceLogged(logger, 0, LOG_FLUSH_MS);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => void shutdown(signal));
  }
}

void main();
