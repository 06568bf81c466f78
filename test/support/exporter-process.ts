// The built `kpiggybank export` (dist/cli/kpiggybank.js) as a process of its own, for the tests
// of a running exporter: what it logged (one pino JSON line per batch on stderr, since stderr is a
// pipe), when it has caught up and loaded its first batch, SIGTERM, and a kill -9 at any moment.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BUILT_CLI = fileURLToPath(new URL('../../dist/cli/kpiggybank.js', import.meta.url));

export interface ExporterProcess {
  readonly child: ChildProcess;
  /** The exit code, or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once a batch has been loaded (its "loaded" line), or the process has exited. */
  readonly loading: Promise<void>;
  /** Resolves once a job has caught up (its "caught up" line), or the process has exited. */
  readonly caughtUp: Promise<void>;
  /** Batches loaded so far, by their log lines. */
  loaded(): number;
  /** What it wrote on stderr (its last 64 KiB). */
  stderr(): string;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (it loads the batch in hand), then waits for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `kpiggybank export --config <config> --once|--follow`, with only PATH (and LOG_LEVEL) in its environment. */
export function startExporter(config: string, mode: 'once' | 'follow'): ExporterProcess {
  const child = spawn(process.execPath, [BUILT_CLI, 'export', `--${mode}`, '--config', config], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let partial = '';
  let loaded = 0;
  let markLoading: () => void = () => undefined;
  const loading = new Promise<void>((resolve) => {
    markLoading = resolve;
  });
  let markCaughtUp: () => void = () => undefined;
  const caughtUp = new Promise<void>((resolve) => {
    markCaughtUp = resolve;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    stderr = (stderr + text).slice(-65_536);
    // whole lines only: a chunk may end inside one
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.includes('"msg":"loaded"')) loaded++;
      else if (line.includes('"msg":"caught up"')) markCaughtUp();
    }
    if (loaded > 0) markLoading();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      markLoading();
      markCaughtUp();
      resolve({ code, signal });
    }),
  );
  return {
    child,
    exited,
    loading,
    caughtUp,
    loaded: () => loaded,
    stderr: () => stderr,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
