#!/usr/bin/env node
// kpiggybank drain|count|range|loadtest
import { run } from './program.js';

// A reader that stopped reading (`kpiggybank range | head`) ends the command without a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') process.stderr.write(`kpiggybank: cannot write the output: ${error.message}\n`);
  process.exit(error.code === 'EPIPE' ? 0 : 1);
});

process.exitCode = await run(process.argv.slice(2));
