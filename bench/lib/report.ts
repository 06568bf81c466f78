import { writeFile } from 'node:fs/promises';

/** One figure of the benchmark: a scenario on one backend (or the bare baseline). */
export interface Row {
  scenario: string;
  backend: string;
  /** What `value` counts, e.g. "requests/s", "blobs/s", "p99 ms". */
  metric: string;
  value: number;
  /** The bare node:http baseline's figure in the same run, and value / baseline. */
  baseline?: number;
  ratio?: number;
  latencyMs?: { p50: number; p99: number };
  /** The server's CPU time per request, and the bare baseline's divided by it (1 = as cheap as bare). */
  cpuUsPerRequest?: number;
  cpuRatio?: number;
  peakRssMiB?: number;
  /** The anonymous part's peak (RssAnon): without the file pages the process maps. */
  peakAnonMiB?: number;
  errors?: number;
  target?: string;
  met?: boolean;
  note?: string;
}

/** One invocation of the bench: when, under what load, with what options. */
export interface Run {
  date: string;
  /** What else ran: the load average when the run started and ended. */
  loadAverage: { start: number[]; end: number[] };
  /** Processes by ps %CPU (the average over each one's life) when the run started, ≥ 5 %. */
  busyAtStart: string[];
  options: Record<string, unknown>;
}

export interface Results extends Run {
  machine: { cores: number; cpu: string; node: string; platform: string; memoryGiB: number };
  /** With --append: the earlier runs whose rows come first, then this one. */
  runs?: Run[];
  rows: Row[];
}

const number = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '' : n >= 100 ? Math.round(n).toLocaleString('en-US') : String(n));

export function markdown(results: Results): string {
  const { machine } = results;
  const runs = results.runs ?? [results];
  const lines = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench\` on ${results.date}: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node} on ${machine.platform}.`,
    'The load generator runs on the same machine, which is shared: ratios compare figures taken back to back in the same run,',
    'and the server CPU time per request is steadier than requests/s when other work competes for the cores.',
    '',
  ];
  for (const run of runs) {
    const busy = run.busyAtStart.length === 0 ? 'nothing else' : run.busyAtStart.map((p) => `\`${p}\``).join('; ');
    lines.push(
      `- Run of ${run.date}, options \`${JSON.stringify(run.options)}\`: load average ${run.loadAverage.start.join(', ')} at start, ${run.loadAverage.end.join(', ')} at end; busy at start (ps %CPU, command): ${busy}.`,
    );
  }
  lines.push(
    '',
    '| scenario | backend | figure | bare node:http | ratio | p50 / p99 ms | server CPU µs/request (bare ÷ this) | peak RSS MiB (anonymous) | errors | target | met |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of results.rows) {
    const latency = r.latencyMs ? `${r.latencyMs.p50} / ${r.latencyMs.p99}` : '';
    const ratio = r.ratio === undefined ? '' : `${(r.ratio * 100).toFixed(0)} %`;
    const met = r.met === undefined ? '' : r.met ? 'yes' : '**no**';
    const figure = `${number(r.value)} ${r.metric}${r.note ? ` (${r.note})` : ''}`;
    const cpu = r.cpuUsPerRequest === undefined ? '' : `${number(r.cpuUsPerRequest)}${r.cpuRatio === undefined ? '' : ` (${(r.cpuRatio * 100).toFixed(0)} %)`}`;
    lines.push(
      `| ${r.scenario} | ${r.backend} | ${figure} | ${number(r.baseline)} | ${ratio} | ${latency} | ${cpu} | ${number(r.peakRssMiB)}${r.peakAnonMiB === undefined ? '' : ` (${number(r.peakAnonMiB)})`} | ${r.errors ?? ''} | ${r.target ?? ''} | ${met} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Writes the results where asked, and nowhere else: a file left unset is not written. */
export async function writeResults(results: Results, to: { json?: string | undefined; markdown?: string | undefined }): Promise<void> {
  if (to.json !== undefined) await writeFile(to.json, `${JSON.stringify(results, null, 2)}\n`);
  if (to.markdown !== undefined) await writeFile(to.markdown, markdown(results));
}
