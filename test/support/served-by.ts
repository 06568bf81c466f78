import { expect } from 'vitest';
import type { Metrics } from '../../src/observability/metrics.js';

/** The two ways into ingest: plain node:http before Express (src/http/ingest-fast-path.ts), or the Express route. */
export type IngestPath = 'fast' | 'express';

/** How many ingest POSTs each path has served so far (kpiggybank_ingest_requests_total). */
export async function servedBy(metrics: Metrics): Promise<Record<IngestPath, number>> {
  const counts: Record<IngestPath, number> = { fast: 0, express: 0 };
  for (const { labels, value } of (await metrics.ingestRequests.get()).values) counts[labels.path as IngestPath] = value;
  return counts;
}

/**
 * Runs `send` and expects it to have been one ingest POST served by `path`, or none with `path`
 * undefined: so that a test of an answer also fails when the other path gave it.
 */
export async function expectServedBy<T>(metrics: Metrics, path: IngestPath | undefined, send: () => PromiseLike<T>): Promise<T> {
  const before = await servedBy(metrics);
  const result = await send();
  const after = await servedBy(metrics);
  expect({ fast: after.fast - before.fast, express: after.express - before.express }, 'ingest POSTs served by each path').toEqual({
    fast: path === 'fast' ? 1 : 0,
    express: path === 'express' ? 1 : 0,
  });
  return result;
}
