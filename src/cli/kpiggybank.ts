#!/usr/bin/env node
// kpiggybank drain|count|range|loadtest
const [command, ...args] = process.argv.slice(2);
if (command === 'loadtest') {
  const { loadtest } = await import('./loadtest.js');
  process.exitCode = await loadtest(args).catch((error: unknown) => {
    process.stderr.write(`kpiggybank loadtest: ${error instanceof Error ? error.message : String(error)} (--help lists the options)\n`);
    return 2;
  });
} else {
  await import('./analyst.js'); // reads its own arguments
}
