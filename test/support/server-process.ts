import { fileURLToPath } from 'node:url';
import { spawnService, type ServiceProcess } from '../../src/loadtest/service-process.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export type { ServiceProcess as ServerProcess };

export interface SpawnOptions {
  /** Run under `ulimit -n <openFiles>` (soft and hard): the process cannot raise it. */
  openFiles?: number;
}

/**
 * Runs `src/server.ts` as a real process, the way `npm start` would, with the given environment
 * (PORT a free one unless given), through the one process starter: `ready` resolves once /readyz answers.
 */
export function spawnServer(env: Record<string, string>, options: SpawnOptions = {}): Promise<ServiceProcess> {
  return spawnService({ env, entry: 'src/server.ts', nodeArgs: ['--import', 'tsx'], cwd: root, openFiles: options.openFiles });
}
