import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Routes } from 'kpiggybank-client/wire';
import { freePort } from './free-port.js';
import { killOnExit } from './kill-on-exit.js';
import { waitUntil } from './wait-until.js';

// The built server of this package, from src/loadtest (tests and benchmarks run through tsx) as from dist/loadtest
const BUILT_SERVER = fileURLToPath(new URL('../../dist/server.js', import.meta.url));

export interface ServiceProcessOptions {
  /** The service's settings; PATH and HOST=127.0.0.1 are added, and PORT (a free one) unless given. */
  env: Record<string, string>;
  /** The script node runs: the built dist/server.js unless told. */
  entry?: string | undefined;
  /** Flags for node itself, e.g. `--max-old-space-size=128` or `--import tsx`. */
  nodeArgs?: readonly string[] | undefined;
  cwd?: string | undefined;
  /** Run under `ulimit -n <openFiles>` (soft and hard): the process cannot raise it. */
  openFiles?: number | undefined;
  /** Characters of its output kept, the last ones: a long run must not grow its starter's memory. All by default. */
  keepOutput?: number | undefined;
  /** Its stderr goes to this process's stderr (a benchmark's console) instead of `output()`. */
  inheritStderr?: boolean | undefined;
}

export interface ServiceProcess {
  /** http://127.0.0.1:<port>; meaningful once `ready` has resolved. */
  url: string;
  child: ChildProcess;
  /** What it printed so far, stdout and stderr (the tail `keepOutput` keeps). */
  output(): string;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** Resolves with `url` once GET /readyz answers 200; rejects when it exits first or is not ready within 30 s. */
  ready: Promise<string>;
  /** SIGTERM (or `signal`), then waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * The one way the service is started as a process of its own: by the load test (its event loop
 * apart from the load's), by the benchmarks and by the tests. It is killed if its starter dies.
 */
export async function spawnService(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const { env, entry = BUILT_SERVER, nodeArgs = [], openFiles, keepOutput = Infinity } = options;
  const port = env.PORT ?? String(await freePort());
  const args = [...nodeArgs, entry];
  // sh execs node, so the child is node itself: signals and exit codes are its own
  const [command, argv] = openFiles === undefined ? [process.execPath, args] : ['/bin/sh', ['-c', `ulimit -n ${openFiles} && exec "$0" "$@"`, process.execPath, ...args]];
  const child = spawn(command, argv, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', ...env, PORT: port },
    stdio: ['ignore', 'pipe', options.inheritStderr ? 'inherit' : 'pipe'],
  });
  killOnExit(child);
  let output = '';
  const record = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > keepOutput) output = output.slice(-keepOutput);
  };
  child.stdout!.on('data', record);
  child.stderr?.on('data', record);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const ready = waitUntil(
    () =>
      fetch(`${url}${Routes.readyz}`).then(
        (res) => res.ok,
        () => false,
      ),
    { what: 'the service', child, detail: () => output },
  ).then(() => url);
  ready.catch(() => undefined); // a starter that awaits only `exited` (a process meant to fail) leaves it unhandled
  return {
    url,
    child,
    output: () => output,
    exited,
    ready,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
