import type { Config } from './config.js';

/*
 * The startup failures an operator causes and can fix, as one line naming the cause and the fix
 * (server.ts prints it on stderr, without a stack trace). Anything else is undefined: a fault of
 * ours, logged with its stack.
 */

/** Why `listen` failed, for the errors of a busy, privileged or foreign address. */
export function listenFailure(error: NodeJS.ErrnoException, host: string, port: number): string | undefined {
  switch (error.code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is in use by another process: stop it, or set PORT to another port (PORT=0 picks a free one)`;
    case 'EACCES':
      return `port ${port} on ${host} needs a privilege this process lacks (ports below 1024 do): set PORT to 1024 or above`;
    case 'EADDRNOTAVAIL':
      return `HOST ${host} is not an address of this machine: set HOST to one of its addresses (127.0.0.1, or 0.0.0.0 for all)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `HOST ${host} does not resolve to an address: set HOST to an address of this machine (127.0.0.1, or 0.0.0.0 for all)`;
    default:
      return undefined;
  }
}

/** LevelDB's lock on its folder (leveldown's and classic-level's wording), anywhere in the error's causes. */
function isLevelLocked(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if ((e as NodeJS.ErrnoException).code === 'LEVEL_LOCKED') return true;
    if (/\bLOCK: (Resource temporarily unavailable|already held by process)/.test(e.message)) return true;
  }
  return false;
}

/** The file-system errors of a folder the operator chose, as the system names them, with what to do. */
const FOLDER_ERRORS: Record<string, [said: string, fix: string]> = {
  EACCES: ['permission denied', 'let this user write to it'],
  EPERM: ['operation not permitted', 'let this user write to it'],
  EROFS: ['read-only file system', 'mount it writable'],
  ENOTDIR: ['not a directory', 'make it a folder'],
  ENOSPC: ['no space left on device', 'free some space'],
};

/** Why the store did not open, for a DATA_DIR that another process holds or this one cannot use. */
export function storeOpenFailure(error: unknown, config: Pick<Config, 'backend' | 'dataDir'>): string | undefined {
  if (config.backend !== 'leveldb') return undefined; // the embedded one
  if (isLevelLocked(error)) {
    return `DATA_DIR ${config.dataDir} is in use by another kpiggybank (its LevelDB is locked): stop that one, or set DATA_DIR to another folder`;
  }
  const { code, syscall, path } = error instanceof Error ? (error as NodeJS.ErrnoException) : {};
  const known = code === undefined ? undefined : FOLDER_ERRORS[code];
  if (known === undefined) return undefined;
  const [said, fix] = known;
  const where = syscall && path ? `: ${syscall} ${path}` : '';
  return `DATA_DIR ${config.dataDir} cannot be used (${said}${where}): ${fix}, or set DATA_DIR to another folder`;
}
