/** One sample's line: `name{label="value",…} 3`, the labels optional (Prometheus text format 0.0.4). */
const SAMPLE = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([A-Za-z_]\w*)="((?:[^"\\]|\\.)*)"/g;

/**
 * The value of the sample of `name` whose labels include `labels`, from `/metrics`' text; 0 when
 * the counter has no such sample (a labelled counter has none until it first counts).
 */
export function counterValue(text: string, name: string, labels: Readonly<Record<string, string>>): number {
  for (const line of text.split('\n')) {
    const sample = SAMPLE.exec(line);
    if (sample?.[1] !== name) continue;
    const found = new Map([...(sample[2] ?? '').matchAll(LABEL)].map((m) => [m[1], m[2]?.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))]));
    if (Object.entries(labels).every(([key, value]) => found.get(key) === value)) return Number(sample[3]);
  }
  return 0;
}
