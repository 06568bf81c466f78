import { Routes } from 'kpiggybank-client/wire';
import { describe, expect, it } from 'vitest';
import { spawnServer } from './support/server-process.js';

const SHUTDOWN_TIMEOUT_MS = 3000;

describe('a server whose log output is gone', () => {
  it('exits on SIGTERM within SHUTDOWN_TIMEOUT_MS when the reader of its stdout has died', async () => {
    const server = await spawnServer({ DB_BACKEND: 'memory', MODE: 'dev', LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) });
    const url = await server.ready;
    try {
      for (let i = 0; i < 5; i++) await (await fetch(`${url}${Routes.ping}`)).text(); // a log line each
      await new Promise((r) => setTimeout(r, 200));
      // The reader goes away between two log lines: the next ones meet a broken pipe (EPIPE).
      server.child.stdout!.destroy();
      await new Promise((r) => setTimeout(r, 200));

      const started = Date.now();
      server.child.kill('SIGTERM');
      const outcome = await Promise.race([server.exited.then(() => 'exited'), new Promise((r) => setTimeout(() => r('still running'), SHUTDOWN_TIMEOUT_MS))]);
      expect(outcome).toBe('exited');
      expect(server.child.exitCode).toBe(0);
      console.log(`log-output-gone test: exited ${Date.now() - started} ms after SIGTERM, code ${server.child.exitCode}`);
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    }
  });

  it('exits on SIGTERM within SHUTDOWN_TIMEOUT_MS when the reader of its stdout has stopped reading', async () => {
    const server = await spawnServer({ DB_BACKEND: 'memory', MODE: 'dev', LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) });
    const url = await server.ready;
    try {
      // The reader stalls: once the pipe is full (64 KiB), each log write would block (EAGAIN).
      server.child.stdout!.pause();
      for (let i = 0; i < 800; i++) await (await fetch(`${url}${Routes.ping}`)).text(); // ~300 bytes of log each
      const started = Date.now();
      server.child.kill('SIGTERM');
      const outcome = await Promise.race([server.exited.then(() => 'exited'), new Promise((r) => setTimeout(() => r('still running'), SHUTDOWN_TIMEOUT_MS))]);
      expect(outcome).toBe('exited');
      expect(server.child.exitCode).toBe(0);
      console.log(`log-output-gone test (stalled reader): exited ${Date.now() - started} ms after SIGTERM`);
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    }
  });
});
