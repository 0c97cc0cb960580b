#!/usr/bin/env node
// The `govcase` command. Runs the compiled server in dist/ (`npm run build`, done by `npm ci`) when it
// is up to date with the sources, else the TypeScript sources through tsx: an edit is never run
// stale. GOVCASE_SOURCES=1 always runs the sources. dist/ saves the loader thread and the compiler
// (~30 MB of RSS) and the compile at start.
import { distIsFresh } from './dist.js';

let main;
if (process.env.GOVCASE_SOURCES !== '1' && distIsFresh()) {
  ({ main } = await import('../dist/infrastructure/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../infrastructure/cli/main.ts'));
}
try {
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exit(code);
} catch (err) {
  process.stderr.write(`govcase: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
