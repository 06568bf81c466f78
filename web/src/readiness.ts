import { isRecord } from './messages.js';
import { Routes } from './portable/routes.js';

export type Readiness = { state: 'ready' } | { state: 'down'; reason: string };

/**
 * `/readyz` as the page shows it: 200 with `status: "ready"` is ready; anything else is not, with
 * the answer's `reason` when it gives one. Read defensively: its JSON may gain fields.
 */
export async function readiness(): Promise<Readiness> {
  let res: Response;
  try {
    res = await fetch(Routes.readyz, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  } catch {
    return { state: 'down', reason: 'the service does not answer' };
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  if (res.ok && isRecord(body) && body.status === 'ready') return { state: 'ready' };
  const reason = isRecord(body) && typeof body.reason === 'string' && body.reason !== '' ? body.reason : `${Routes.readyz} answered ${res.status}`;
  return { state: 'down', reason };
}
