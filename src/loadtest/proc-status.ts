import { readFile } from 'node:fs/promises';

type MemoryField = 'VmRSS' | 'VmHWM' | 'RssAnon';

/** Fields of a process's memory from Linux's /proc/<pid>/status, in bytes; 0 when unreadable (the process is gone). */
export async function processMemory<F extends MemoryField>(pid: number, fields: readonly F[]): Promise<Record<F, number>> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const bytes = (field: F) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return Object.fromEntries(fields.map((field) => [field, bytes(field)])) as Record<F, number>;
}
