// A throwaway PostgreSQL cluster for the export's tests and benchmarks: Debian's `postgresql`
// package's server binaries, initdb'd into a temporary directory and started on a free port, or
// the server POSTGRES_URL names. PostgreSQL refuses to run as root, so under root the cluster
// belongs to the `postgres` user and runs through `runuser`.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../src/loadtest/free-port.js';
import { waitUntil } from '../src/loadtest/wait-until.js';

export interface RunningPostgres {
  /** postgres://user:password@host:port/db (the password is a secret of the run: never print it). */
  url: string;
  /** Stops the cluster and removes its directory; nothing for a POSTGRES_URL server. */
  stop(): Promise<void>;
}

const INSTALL_HINT =
  "install Debian's postgresql package (sudo apt-get update && sudo apt-get install -y --no-install-recommends postgresql), " +
  'or point the tests at a server with POSTGRES_URL=postgres://user:password@host:port/db';

/** The newest installed server's bin directory (/usr/lib/postgresql/<major>/bin), or PG_BINDIR. */
function serverBinDir(): string {
  const given = process.env.PG_BINDIR;
  if (given) {
    if (!existsSync(path.join(given, 'initdb'))) throw new Error(`PostgreSQL's initdb is not in PG_BINDIR=${given}: ${INSTALL_HINT}`);
    return given;
  }
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((major) => existsSync(path.join(root, major, 'bin', 'initdb'))) : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined) throw new Error(`PostgreSQL's server is not installed (no ${root}/<version>/bin/initdb): ${INSTALL_HINT}`);
  return path.join(root, newest, 'bin');
}

/** Runs the cluster's programs as `postgres` when this process is root (PostgreSQL will not run as root), as ourselves otherwise. */
interface Owner {
  uid: number;
  gid: number;
  command(argv: readonly string[]): [string, string[]];
}

function clusterOwner(): Owner {
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0) return { uid, gid: process.getgid?.() ?? -1, command: ([bin = '', ...args]) => [bin, args] };
  const id = (flag: string) => {
    try {
      return Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    } catch {
      throw new Error(`PostgreSQL refuses to run as root and there is no \`postgres\` user to run it as: ${INSTALL_HINT}`);
    }
  };
  return { uid: id('-u'), gid: id('-g'), command: (argv) => ['runuser', ['-u', 'postgres', '--', ...argv]] };
}

/** POSTGRES_URL's server as it is, or a new cluster (its superuser `postgres` with a random password, over TCP on 127.0.0.1). */
export async function startPostgres(): Promise<RunningPostgres> {
  const given = process.env.POSTGRES_URL;
  if (given) return { url: given, stop: async () => undefined };
  const bin = serverBinDir();
  const owner = clusterOwner();
  const dir = await mkdtemp(path.join(tmpdir(), 'kpiggybank-postgres-'));
  const data = path.join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  let child: ChildProcess | undefined;
  let postmasterPid: number | undefined;
  // Kills the server if this process dies before stop(): a crashed test run must not leave clusters behind.
  const killAtExit = () => {
    try {
      if (postmasterPid !== undefined) process.kill(postmasterPid, 'SIGQUIT');
    } catch {
      // Already gone.
    }
  };
  // The postmaster (runuser's child, under root) is what to signal; it writes its pid first thing.
  const readPostmasterPid = () => {
    try {
      return Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]) || undefined;
    } catch {
      return undefined;
    }
  };
  const stop = async () => {
    process.off('exit', killAtExit);
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      postmasterPid ??= readPostmasterPid();
      // Fast shutdown of the postmaster itself (runuser's own SIGTERM would be a "smart" one, which waits for clients).
      if (postmasterPid !== undefined) process.kill(postmasterPid, 'SIGINT');
      else child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await chown(dir, owner.uid, owner.gid);
    const pwfile = path.join(dir, 'pwfile');
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    await chown(pwfile, owner.uid, owner.gid);
    const [initdb, initdbArgs] = owner.command([
      path.join(bin, 'initdb'),
      ...['-D', data, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8'],
      // initdb's own fsyncs only protect a cluster that outlives a power cut; the server below keeps fsync on.
      '--no-sync',
    ]);
    try {
      execFileSync(initdb, initdbArgs, { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`initdb failed in ${data}: ${stderr.trim() || String(error)}`);
    }
    const port = await freePort();
    const [postgres, args] = owner.command([path.join(bin, 'postgres'), '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1']);
    child = spawn(postgres, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8_000)));
    await waitUntil(() => stderr.includes('database system is ready to accept connections'), {
      what: `PostgreSQL on port ${port}`,
      timeoutMs: 20_000,
      child,
      detail: () => stderr,
    });
    postmasterPid = readPostmasterPid();
    process.once('exit', killAtExit);
    return { url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
