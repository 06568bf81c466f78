import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { Routes } from 'kpiggybank-client/wire';
import { describe, expect, it } from 'vitest';
import { createLogger, logFormat } from '../src/observability/logger.js';
import { logSink } from './support/log-sink.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('log format', () => {
  it('is pretty only for a person at a terminal in dev mode; JSON for pipes, files and prod', () => {
    expect(logFormat('dev', true)).toBe('pretty');
    expect(logFormat('dev', false)).toBe('json');
    expect(logFormat('prod', true)).toBe('json');
    expect(logFormat('prod', false)).toBe('json');
  });

  it('pretty lines are readable, and still redact secrets', () => {
    const { chunks: lines, sink } = logSink();
    const logger = createLogger({ logLevel: 'info' }, sink, 'pretty');
    logger.info({ req: { headers: { authorization: 'Bearer s3cret-token' } }, config: { couch: { password: 'hunter2-pass' } } }, 'kpiggybank listening');
    const text = lines.join('');
    expect(text).toMatch(/INFO.*kpiggybank listening/);
    expect(text.trimStart().startsWith('{')).toBe(false);
    expect(text).toContain('[redacted]');
    expect(text).not.toContain('s3cret-token');
    expect(text).not.toContain('hunter2-pass');
  });

  it('JSON lines are one object each', () => {
    const { chunks: lines, sink } = logSink();
    createLogger({ logLevel: 'info' }, sink).info({ n: 1 }, 'hello');
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, msg: 'hello', n: 1 });
  });

  /** The server under script(1), which gives it a terminal: a ^C typed into it is SIGINT to the server. */
  function onTerminal(env: Record<string, string>) {
    const command = `exec ${JSON.stringify(process.execPath)} --import tsx src/server.ts`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', DB_BACKEND: 'memory', MODE: 'dev', TERM: 'dumb', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // without the terminal's colours
    const plain = () => stripVTControlCharacters(output);
    const ready = (async () => {
      await expect.poll(plain, { timeout: 20_000, interval: 100 }).toMatch(/INFO: kpiggybank listening\s+url: "http:\/\/[^"]+"/);
      return /url: "(http:\/\/[^"]+)"/.exec(plain())![1]!;
    })();
    return { child, exited, plain, ready };
  }

  it('a server on a pseudo-terminal in dev mode logs pretty lines, and Ctrl-C still stops it with its last line written, exit 0', { timeout: 30_000 }, async () => {
    const server = onTerminal({});
    const url = await server.ready;
    expect(server.plain()).not.toContain('"msg":"kpiggybank listening"');
    expect((await fetch(`${url}${Routes.healthz}`)).status).toBe(200);
    server.child.stdin.write('\x03');
    expect(await server.exited).toBe(0);
    expect(server.plain()).toMatch(/INFO: stopped/);
  });

  it('pretty on a terminal nobody reads: SIGTERM still ends the server within SHUTDOWN_TIMEOUT_MS, exit 0', { timeout: 30_000 }, async () => {
    const shutdownMs = 3000;
    const server = onTerminal({ SHUTDOWN_TIMEOUT_MS: String(shutdownMs) });
    const url = await server.ready;
    const node = Number(execFileSync('ps', ['--ppid', String(server.child.pid), '-o', 'pid='], { encoding: 'utf8' }).trim());
    // a server that exited is a zombie until script, stuck on its own stdout, reaps it
    const alive = () => {
      try {
        return !/^State:\s+Z/m.test(readFileSync(`/proc/${node}/status`, 'utf8'));
      } catch {
        return false;
      }
    };
    try {
      // script stops reading the terminal once its own stdout is full: the server's log writes then block (EAGAIN)
      server.child.stdout.pause();
      for (let i = 0; i < 800; i++) await (await fetch(`${url}${Routes.ping}`)).text();
      process.kill(node, 'SIGTERM');
      await expect.poll(alive, { timeout: shutdownMs, interval: 50 }).toBe(false);
      server.child.stdout.resume();
      expect(await server.exited).toBe(0); // script exits with the server's code
    } finally {
      if (alive()) process.kill(node, 'SIGKILL');
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    }
  });
});
