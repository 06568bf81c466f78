import type { Histogram, Registry } from 'prom-client';

/** One labelled series of a DurationHistogram. */
export interface DurationSeries {
  observe(seconds: number): void;
}

interface ExportedValue {
  value: number;
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
  metricName: string;
}

class Series implements DurationSeries {
  /** Per bucket, not cumulative; the last slot counts what is above every bound (+Inf only). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Record<string, string>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    let i = 0;
    while (i < this.bounds.length && seconds > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/**
 * A Prometheus histogram of durations that exports exactly what prom-client's Histogram does
 * (same lines, same label order), but whose labelled series are found once and then observed with
 * a bucket search and three additions. prom-client validates and hashes the labels of every
 * observation: with two per POST, that was ~8 % of a single-blob POST's CPU.
 */
export class DurationHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    // The registry takes any object that exports like a metric; its types only name its own classes.
    registry.registerMetric(this as unknown as Histogram);
  }

  /** The series of these labels: keep it, and observe on it, on hot paths. */
  labels(labels: Record<L, string>): DurationSeries {
    const key = this.labelNames.map((name) => labels[name]).join('\u0000');
    let series = this.series.get(key);
    if (!series) {
      const own: Record<string, string> = {};
      for (const name of this.labelNames) own[name] = labels[name];
      series = new Series(own, this.buckets);
      this.series.set(key, series);
    }
    return series;
  }

  /** Times from now; the labels may be completed at the end (a route known only once matched). */
  startTimer(start: Partial<Record<L, string>> = {}): (end?: Partial<Record<L, string>>) => void {
    const started = performance.now();
    return (end = {}) => this.labels({ ...start, ...end } as Record<L, string>).observe((performance.now() - started) / 1000);
  }

  /** What the registry prints: per series, cumulative buckets, +Inf, _sum, _count (prom-client's order). */
  getForPromString(): { name: string; help: string; type: string; aggregator: string; values: ExportedValue[] } {
    const values: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const series of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += series.counts[i]!;
        values.push({ value: cumulative, labels: { le }, sharedLabels: series.labels, metricName: bucket });
      });
      values.push(
        { value: series.count, labels: { le: '+Inf' }, sharedLabels: series.labels, metricName: bucket },
        { value: series.sum, labels: {}, sharedLabels: series.labels, metricName: `${this.name}_sum` },
        { value: series.count, labels: {}, sharedLabels: series.labels, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** The same with each value's labels in one object (registry.getMetricsAsJSON). */
  get(): { name: string; help: string; type: string; aggregator: string; values: { value: number; labels: Record<string, string | number>; metricName: string }[] } {
    const data = this.getForPromString();
    return { ...data, values: data.values.map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } })) };
  }

  reset(): void {
    this.series.clear();
  }
}
