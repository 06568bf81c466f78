import express, { type Router } from 'express';
import { Routes } from 'kpiggybank-client/wire';
import type { ChangeHub } from '../feed/change-hub.js';
import type { Store } from '../store/store.js';
import { RETRY_AFTER_SECONDS, toHttpError } from './errors.js';
import { HttpError } from './http-error.js';

const READY_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `/wsapi/ping` (the seed's), `/healthz` (the process lives), `/readyz` (the store answers and can write, the feed follows it). */
export function healthRouter(store: Store, hub: ChangeHub, isShuttingDown: () => boolean): Router {
  const router = express.Router();

  router.get(Routes.ping, (_req, res) => {
    res.type('text/plain').send('pong');
  });

  router.get(Routes.healthz, (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get(Routes.readyz, async (_req, res) => {
    if (isShuttingDown()) {
      throw new HttpError(503, 'store_unavailable', 'the service is shutting down', undefined, { 'Retry-After': '1' });
    }
    const health = store.health?.();
    if (health && !health.writable) {
      throw new HttpError(503, 'store_unavailable', `the ${store.backend} store cannot write: ${health.reason ?? 'its writes are failing'}`, undefined, {
        'Retry-After': String(RETRY_AFTER_SECONDS),
      });
    }
    try {
      await withTimeout(store.ping(), READY_TIMEOUT_MS, 'the store check');
    } catch (error) {
      const { http } = toHttpError(error);
      throw new HttpError(503, 'store_unavailable', `the ${store.backend} store is not reachable`, undefined, { 'Retry-After': String(RETRY_AFTER_SECONDS), ...http.headers });
    }
    const feed = hub.status();
    if (feed.state === 'reconnecting') {
      throw new HttpError(503, 'store_unavailable', `the change feed lost the store ${Math.round(feed.lastContactSeconds)} s ago and is reconnecting`, undefined, {
        'Retry-After': String(RETRY_AFTER_SECONDS),
      });
    }
    res.json({ status: 'ready', backend: store.backend, feed });
  });

  return router;
}
