import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process printed so far, stdout and stderr. */
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

export interface SpawnOptions {
  /** Run under `ulimit -n <openFiles>` (soft and hard): the process cannot raise it. */
  openFiles?: number;
}

/** Runs `src/server.ts` as a real process, the way `npm start` would, with the given environment. */
export function spawnServer(env: Record<string, string>, options: SpawnOptions = {}): ServerProcess & { ready: Promise<string> } {
  const args = ['--import', 'tsx', 'src/server.ts'];
  // sh execs node, so the child is node itself: signals and exit codes are its own
  const [command, argv] =
    options.openFiles === undefined ? [process.execPath, args] : ['/bin/sh', ['-c', `ulimit -n ${options.openFiles} && exec "$0" "$@"`, process.execPath, ...args]];
  const child = spawn(command, argv, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)".*"msg":"kpiggybank listening"/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`server exited with ${code} before listening:\n${output}`)));
  });
  const proc = { child, output: () => output, exited, ready, url: '' };
  void ready.then((url) => (proc.url = url)).catch(() => undefined);
  return proc;
}
