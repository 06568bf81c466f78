import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { freePort } from '../../src/loadtest/free-port.js';
import { killOnExit } from '../../src/loadtest/kill-on-exit.js';
import { processMemory } from '../../src/loadtest/proc-status.js';
import { spawnService } from '../../src/loadtest/service-process.js';
import { waitUntil } from '../../src/loadtest/wait-until.js';

/** A server process under test, with its resident memory sampled while it runs. */
export interface Running {
  name: string;
  port: number;
  url: string;
  child: ChildProcess;
  /** CPU seconds (user + system) the process has used so far. */
  cpuSeconds(): Promise<number>;
  /** Largest RSS seen since start (or since the last reset), in MiB. */
  peakRssMiB(): number;
  /**
   * Largest anonymous part of it (RssAnon): the process's own memory, without the file pages it
   * maps. LevelDB maps its table files, so reading a large leveldb store grows RSS by file pages
   * the kernel can take back.
   */
  peakAnonMiB(): number;
  resetPeak(): void;
  stop(): Promise<void>;
}

/** utime + stime of /proc/<pid>/stat, in seconds (Linux; clock ticks are 100 Hz there); NaN once the process is gone. */
export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Samples a started (and ready) process's memory every 100 ms until it is stopped. */
function track(name: string, child: ChildProcess, url: string): Running {
  const exited = new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  let peak = 0;
  let peakAnon = 0;
  const sampler = setInterval(
    () =>
      void processMemory(child.pid!, ['VmRSS', 'RssAnon']).then(({ VmRSS, RssAnon }) => {
        peak = Math.max(peak, VmRSS);
        peakAnon = Math.max(peakAnon, RssAnon);
      }),
    100,
  );
  return {
    name,
    port: Number(new URL(url).port),
    url,
    child,
    cpuSeconds: () => cpuSecondsOf(child.pid!),
    peakRssMiB: () => Math.round(peak / 2 ** 20),
    peakAnonMiB: () => Math.round(peakAnon / 2 ** 20),
    resetPeak: () => {
      peak = 0;
      peakAnon = 0;
    },
    async stop() {
      clearInterval(sampler);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** `node <entry>` (dist/server.js unless the bench's --service says otherwise) with the given environment; PORT is chosen here. */
export async function startService(env: Record<string, string>, entry = 'dist/server.js'): Promise<Running> {
  const service = await spawnService({ env, entry, inheritStderr: true, keepOutput: 16_384 });
  await service.ready;
  return track(`service (${env.DB_BACKEND})`, service.child, service.url);
}

/** The bare node:http baseline (bench/baseline-server.ts). */
export async function startBaseline(): Promise<Running> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/baseline-server.ts', String(port)], { stdio: ['ignore', 'ignore', 'inherit'] });
  killOnExit(child);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    () =>
      fetch(url, { method: 'POST', body: '{}' }).then(
        (r) => r.status === 201,
        () => false,
      ),
    { what: 'bare node:http', child },
  );
  return track('bare node:http', child, url);
}
