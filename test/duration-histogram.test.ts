import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DurationHistogram } from '../src/observability/duration-histogram.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVED: [string, string, number][] = [
  ['POST', '201', 0.0005],
  ['POST', '201', 0.001], // on a bound: counted in it (le is inclusive)
  ['POST', '201', 0.05],
  ['GET', '404', 3],
  ['POST', '201', 0.2],
];

describe('DurationHistogram', () => {
  it('exports exactly what a prom-client Histogram does for the same observations', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Histogram({ name: 'd_seconds', help: 'durations', labelNames: ['method', 'status'] as const, buckets: BUCKETS, registers: [theirs] });
    const histogram = new DurationHistogram('d_seconds', 'durations', ['method', 'status'], BUCKETS, ours);
    for (const [method, status, seconds] of OBSERVED) {
      reference.observe({ method, status }, seconds);
      histogram.labels({ method, status }).observe(seconds);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // prom-client adds an empty `exemplar` to each value; exemplars are not used here
    const withoutExemplars = (metrics: { values: object[] }[]) => metrics.map((m) => ({ ...m, values: m.values.map(({ exemplar: _, ...v }: { exemplar?: unknown }) => v) }));
    expect(withoutExemplars(await ours.getMetricsAsJSON())).toEqual(withoutExemplars(await theirs.getMetricsAsJSON()));
  });

  it('times with labels completed at the end, and resets', async () => {
    const registry = new Registry();
    const histogram = new DurationHistogram('t_seconds', 'timed', ['method', 'route'], BUCKETS, registry);
    histogram.startTimer({ method: 'GET' })({ route: '/x' });
    expect(await registry.metrics()).toMatch(/^t_seconds_count\{method="GET",route="\/x"\} 1$/m);
    registry.resetMetrics();
    expect(await registry.metrics()).not.toMatch(/t_seconds_count/);
  });
});
