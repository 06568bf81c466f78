import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** The whole environment besides PATH: nothing of the caller's (a KPIGGYBANK_URL, a READ_TOKEN) leaks in. */
  env?: Record<string, string>;
  /** Run this file instead of the source CLI (e.g. an installed copy's bin). */
  bin?: string;
  cwd?: string;
}

/** The real `kpiggybank` CLI in a process of its own, from source through tsx unless `bin` is given. */
export function runCli(args: readonly string[], { env = {}, bin, cwd = root }: CliOptions = {}): Promise<CliRun> {
  const argv = bin ? [bin, ...args] : ['--import', 'tsx', 'src/cli/kpiggybank.ts', ...args];
  const child = spawn(process.execPath, argv, { cwd: bin ? cwd : root, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A CLI's output says what went wrong in lines of its own, never with a stack trace. */
export function hasStackTrace(output: string): boolean {
  return /^\s+at /m.test(output) || /node:internal|\.[jt]s:\d+/.test(output);
}
