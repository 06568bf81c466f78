import request from 'supertest';
import { Routes } from 'kpiggybank-client/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metric, startTestApp, TEST_FEED, type TestApp } from './support/app.js';

/**
 * An idle store answers the follower once a heartbeat (its wait for changes runs out): the time
 * since that answer is normal up to the heartbeat, so /readyz says both, and no "lag".
 */
describe('/readyz and /metrics: the follower, as an operator reads it', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('memory');
  });
  afterAll(async () => {
    await t.close();
  });

  it('reports the time since the store last answered beside the heartbeat it expects', async () => {
    const heartbeatSeconds = TEST_FEED.waitMs / 1000;
    // idle: let a heartbeat or two pass
    await new Promise((resolve) => setTimeout(resolve, TEST_FEED.waitMs * 1.5));
    const { feed } = (await request(t.url).get(Routes.readyz).expect(200)).body as { feed: Record<string, unknown> };
    expect(Object.keys(feed).sort()).toEqual(['heartbeatSeconds', 'lastContactSeconds', 'seq', 'state', 'subscribers']);
    expect(feed).toMatchObject({ state: 'following', heartbeatSeconds });
    expect(feed.lastContactSeconds).toBeGreaterThanOrEqual(0);
    expect(feed.lastContactSeconds).toBeLessThan(heartbeatSeconds * 3);
    expect(await metric(t.url, 'kpiggybank_feed_follower_heartbeat_seconds')).toBe(heartbeatSeconds);
    expect(await metric(t.url, 'kpiggybank_feed_follower_last_contact_seconds')).toBeGreaterThanOrEqual(0);
    expect(await metric(t.url, 'kpiggybank_feed_follower_lag_seconds')).toBeUndefined();
  });
});
