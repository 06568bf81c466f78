import { describe, expect, it } from 'vitest';
import { drainRoutes, Routes } from 'kpiggybank-client/wire';

// The 2012 clients (Persona's poster, kpi-dashboard) call these literal paths: the route table
// may gain entries but never move one.
describe('route table', () => {
  it('keeps the paths the original clients call', () => {
    expect(Routes.blobs).toBe('/wsapi/interaction_data');
    expect(Routes.count).toBe('/wsapi/interaction_data/count');
    expect(Routes.last).toBe('/wsapi/interaction_data/last');
    expect(Routes.stream).toBe('/wsapi/interaction_data/stream');
    expect(Routes.ping).toBe('/wsapi/ping');
    expect(Routes.changes).toBe('/wsapi/changes');
    expect(Routes.drains).toBe('/wsapi/drains');
    expect(Routes.schema).toBe('/wsapi/schema');
  });

  it('escapes a drain id into its routes', () => {
    expect(drainRoutes('a/b')).toEqual({
      status: '/wsapi/drains/a%2Fb',
      blobs: '/wsapi/drains/a%2Fb/blobs',
      commit: '/wsapi/drains/a%2Fb/commit',
      release: '/wsapi/drains/a%2Fb/release',
    });
  });
});
