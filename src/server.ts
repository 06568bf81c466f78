import type { EventSchema } from 'kpiggybank-client/wire';
import type { Logger } from 'pino';
import { ConfigError, describeConfig, loadConfig, type Config } from './config.js';
import { ConfigError as FileError } from './formats/toml-file.js';
import { boundHeapGrowth } from './heap-growth.js';
import { createLogger, exitOnceLogged, logFormat } from './observability/logger.js';
import { loadSchema } from './schema/load-schema.js';
import { createService } from './service.js';
import { listenFailure, storeOpenFailure } from './startup-failure.js';
import { createStore } from './store/create-store.js';
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

/** SCHEMA_FILE's schema, or undefined without one; a file that cannot be read or is wrong: a line per mistake, exit 2, as a bad setting. */
async function readSchema(file: string | undefined): Promise<EventSchema | undefined> {
  if (file === undefined) return undefined;
  try {
    return await loadSchema(file);
  } catch (error) {
    if (!(error instanceof FileError)) throw error;
    for (const line of error.problems) console.error(`kpiggybank: SCHEMA_FILE ${line}`);
    process.exit(2);
  }
}

/** A mistake of the operator's: one line on stderr, and in the log without a stack (it is no fault of ours). */
function startupMistake(logger: Logger, line: string): void {
  logger.fatal(line);
  console.error(`kpiggybank: ${line}`);
}

/** The process: configuration, store, HTTP server (service.ts), and a shutdown that loses no acknowledged blob. */
async function main(): Promise<void> {
  const config = readConfig();
  const schema = await readSchema(config.schemaFile);
  boundHeapGrowth(config.backend);
  const logger = createLogger(config, undefined, logFormat(config.mode, process.stdout.isTTY === true));
  const service = createService(createStore(config, logger), schema === undefined ? config : { ...config, schema }, logger);

  try {
    await service.store.open();
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

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const deadline = setTimeout(() => {
      logger.error(`still not stopped ${config.shutdownTimeoutMs + SHUTDOWN_MARGIN_MS} ms after ${signal}: exiting with the store not closed`);
      exitOnceLogged(logger, 1, LOG_FLUSH_MS);
    }, config.shutdownTimeoutMs + SHUTDOWN_MARGIN_MS);
    deadline.unref();
    await service.close();
    logger.info('stopped');
    exitOnceLogged(logger, 0, LOG_FLUSH_MS);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => void shutdown(signal));
  }

  try {
    const { address, port } = await service.listen();
    const host = address.includes(':') ? `[${address}]` : address;
    logger.info({ url: `http://${host}:${port}`, config: describeConfig(config) }, 'kpiggybank listening');
  } catch (error) {
    const mistake = listenFailure(error as NodeJS.ErrnoException, config.host, config.port);
    if (mistake === undefined) logger.fatal({ err: error }, `cannot listen on ${config.host}:${config.port}`);
    else startupMistake(logger, mistake);
    exitOnceLogged(logger, 1, LOG_FLUSH_MS);
    return;
  }
  service.server.on('error', (error) => {
    logger.fatal({ err: error }, 'the HTTP server failed');
    exitOnceLogged(logger, 1, LOG_FLUSH_MS);
  });
}

void main();
