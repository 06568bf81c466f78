import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hasStackTrace, runCli } from './support/cli.js';

const version = (JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe("kpiggybank: --help on every command, and a user's mistake in one line", () => {
  it('--help, -h and `help` print the usage on stdout and exit 0, for the program and every command', { timeout: 120_000 }, async () => {
    const cases: [string[], RegExp][] = [
      [['--help'], /^usage: kpiggybank /],
      [['-h'], /^usage: kpiggybank /],
      [['help'], /^usage: kpiggybank /],
      [['help', 'drain'], /^usage: kpiggybank drain /],
      ...(['drain', 'count', 'range', 'loadtest'] as const).flatMap((command): [string[], RegExp][] => [
        [[command, '--help'], new RegExp(`^usage: kpiggybank ${command} `)],
        [[command, '-h'], new RegExp(`^usage: kpiggybank ${command} `)],
      ]),
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args)));
    runs.forEach((run, i) => {
      const [args, usage] = cases[i]!;
      expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 0, stderr: '' });
      expect(run.stdout, args.join(' ')).toMatch(usage);
    });
    const [root] = runs;
    for (const command of ['drain', 'count', 'range', 'loadtest']) expect(root!.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    const help = (command: string) => runs[cases.findIndex(([args]) => args[0] === command && args[1] === '--help')]!.stdout;
    // the environment each command reads, and every drain flag
    for (const text of ['KPIGGYBANK_URL', 'DRAIN_TOKEN', '--resume', '--force', '--csv-raw', '--format', '--out', '--start', '--end']) expect(help('drain')).toContain(text);
    for (const command of ['count', 'range']) for (const text of ['KPIGGYBANK_URL', 'READ_TOKEN', '--token']) expect(help(command)).toContain(text);
    // --url has a default: the usage line does not show it as required
    for (const command of ['drain', 'count', 'range']) {
      const usage = help(command).split('\n\n')[0]!;
      expect(usage, command).not.toMatch(/(^|[^[|])--url URL/);
      expect(help(command)).toContain('default: "http://127.0.0.1:3000"');
    }
  });

  it('--version prints the version', async () => {
    const run = await runCli(['--version']);
    expect(run).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('a bad option, value or command: one line naming it, then the usage; exit 2, nothing on stdout, no stack trace', { timeout: 120_000 }, async () => {
    const cases: [string[], string, string][] = [
      // [arguments, what the line names, the usage it is followed by]
      [[], 'which command', 'kpiggybank'],
      [['bogus'], 'bogus', 'kpiggybank'],
      [['help', 'bogus'], 'bogus', 'kpiggybank'],
      [['--foo'], '--foo', 'kpiggybank'],
      [['count', '--foo'], '--foo', 'kpiggybank count'],
      [['count', 'extra'], 'extra', 'kpiggybank count'],
      [['count', '--url'], '--url', 'kpiggybank count'],
      [['count', '--url', 'ftp://example.org'], 'ftp://example.org', 'kpiggybank count'],
      [['range', '--start', 'yesterday'], 'yesterday', 'kpiggybank range'],
      [['drain', '--bogus'], '--bogus', 'kpiggybank drain'],
      [['drain'], '--out', 'kpiggybank drain'],
      [['drain', '--out', 'x', '--format', 'xml'], 'xml', 'kpiggybank drain'],
      [['drain', '--out', 'x', '--csv-raw'], '--csv-raw', 'kpiggybank drain'],
      [['drain', '--resume', 'abc', '--out', 'x'], '--out', 'kpiggybank drain'],
      [['loadtest', '--nope'], '--nope', 'kpiggybank loadtest'],
      [['loadtest', '--backend', 'oracle'], 'oracle', 'kpiggybank loadtest'],
      [['loadtest', '--sequences', '0'], '--sequences', 'kpiggybank loadtest'],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args)));
    runs.forEach((run, i) => {
      const [args, named, usage] = cases[i]!;
      const label = `kpiggybank ${args.join(' ')}`;
      expect(run.code, label).toBe(2);
      expect(run.stdout, label).toBe('');
      const [line, ...rest] = run.stderr.split('\n');
      expect(line, label).toMatch(/^kpiggybank: /);
      expect(line, label).toContain(named);
      expect(rest.join('\n').trimStart(), label).toMatch(new RegExp(`^usage: ${usage} `));
      expect(hasStackTrace(run.stderr), `${label}:\n${run.stderr}`).toBe(false);
    });
  });

  it('a bad KPIGGYBANK_URL is named as the variable', async () => {
    const run = await runCli(['count'], { env: { KPIGGYBANK_URL: 'localhost:3000' } });
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toMatch(/^kpiggybank: .*KPIGGYBANK_URL.*localhost:3000/);
  });
});

describe('kpiggybank | head', () => {
  it('a reader that stops reading (EPIPE) ends the command without a stack trace', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/kpiggybank.ts', '--help'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy(); // before it writes: its write meets a closed pipe
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});

describe('kpiggybank: a password in --url', () => {
  it('is masked in the messages that name the service', async () => {
    const secret = 'S3cret-in-the-url';
    const runs = await Promise.all([
      runCli(['count', '--url', `http://analyst:${secret}@127.0.0.1:9`]),
      runCli(['drain', '--resume', 'abc', '--url', `http://analyst:${secret}@127.0.0.1:9`, '--token', 't']),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('http://analyst:***@127.0.0.1:9');
      expect(run.stderr + run.stdout).not.toContain(secret);
      expect(hasStackTrace(run.stderr)).toBe(false);
    }
  });
});
