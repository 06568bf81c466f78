import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { alive } from '../harness/alive.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Runs a parent script that prints a pid and then crashes; answers that pid. */
async function pidFromCrashingParent(parent: string): Promise<number> {
  const run = spawn(process.execPath, ['--input-type=module', '-e', parent], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  run.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => run.once('exit', resolve));
  expect(code).not.toBe(0);
  const pid = Number(out.trim());
  expect(pid).toBeGreaterThan(0);
  return pid;
}

describe('killOnExit', () => {
  it('kills a spawned process when its parent dies of an uncaught exception', async () => {
    // the parent spawns a process that would run for a minute, tells its pid, then crashes
    const parent = `
      import { spawn } from 'node:child_process';
      import { killOnExit } from './dist/loadtest/kill-on-exit.js';
      const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
      killOnExit(child);
      console.log(child.pid);
      setTimeout(() => { throw new Error('crash on purpose'); }, 200);
    `;
    const pid = await pidFromCrashingParent(parent);
    await expect.poll(() => alive(pid), { timeout: 5000 }).toBe(false);
  });
  it('reaches a grandchild: a crashed parent SIGTERMs a script, whose exit hooks kill what it started', async () => {
    // parent (crashes) -> middle script (exitOnTermination, killOnExit) -> a minute-long grandchild
    const middle = `
      import { spawn } from 'node:child_process';
      import { exitOnTermination, killOnExit } from './dist/loadtest/kill-on-exit.js';
      exitOnTermination();
      const grandchild = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
      killOnExit(grandchild);
      console.log(grandchild.pid);
      setInterval(() => {}, 1000);
    `;
    const parent = `
      import { spawn } from 'node:child_process';
      import { killOnExit } from './dist/loadtest/kill-on-exit.js';
      const script = spawn(process.execPath, ['--input-type=module', '-e', ${JSON.stringify(middle)}], { stdio: ['ignore', 'pipe', 'inherit'] });
      killOnExit(script, 'SIGTERM');
      script.stdout.once('data', (pid) => {
        console.log(String(pid).trim());
        throw new Error('crash on purpose');
      });
    `;
    const pid = await pidFromCrashingParent(parent);
    await expect.poll(() => alive(pid), { timeout: 5000 }).toBe(false);
  });
});
