#!/usr/bin/env node
// The `govcase` command: runs the TypeScript sources through tsx (no build step).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../infrastructure/cli/main.ts');
try {
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exit(code);
} catch (err) {
  process.stderr.write(`govcase: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
