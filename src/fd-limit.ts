import { readFileSync } from 'node:fs';

/** What is assumed where the limit cannot be read (not Linux): the usual soft limit. */
const ASSUMED_LIMIT = 1024;

/**
 * The process's open-file limit (soft: the one that fails an open), from `/proc/self/limits` on
 * Linux (Node 20 has no getrlimit); undefined where that cannot be read. "unlimited" is Infinity.
 */
export function openFilesLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | undefined {
  let text: string;
  try {
    text = read();
  } catch {
    return undefined;
  }
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!match) return undefined;
  return match[1] === 'unlimited' ? Infinity : Number(match[1]);
}

/**
 * The default connection cap: the file limit less what the process needs besides client
 * sockets. LevelDB holds its logs, manifests and table files open (~74 on a store of a million
 * blobs, across the blob, id-index and claim-book databases, and more as it grows), CouchDB
 * connections, stdio and Node's own take a few more: a quarter of the limit is kept, at least
 * 256. With `ulimit -n 1024`: 768 connections (and Node's hard close at 816, hardConnectionLimit,
 * still leaves 208). Never below 64.
 */
export function defaultMaxConnections(limit: number | undefined): number {
  const files = Math.min(limit ?? ASSUMED_LIMIT, 1 << 20);
  return Math.max(64, files - Math.max(256, Math.floor(files / 4)));
}
