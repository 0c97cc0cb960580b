#!/usr/bin/env node
// `npm run build` (also run by `npm ci` / `npm install`, as `prepare`): compiles the server into dist/
// with tsc (tsconfig.build.json), copies the SQL migrations and the GraphQL schema beside it, and
// stamps it. `govcase` runs dist/ while the stamp is newer than every source file, else the sources.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ASSET, DIST, ROOT, RUNTIME_DIRS, STAMP } from './dist.js';

const started = Date.now();
rmSync(DIST, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const run = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
if (run.status !== 0) {
  rmSync(DIST, { recursive: true, force: true });
  process.stderr.write('govcase build: tsc failed; `govcase` will run the TypeScript sources\n');
  process.exit(run.status ?? 1);
}
const copyAssets = (dir) => {
  for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) copyAssets(rel);
    else if (ASSET.test(e.name)) {
      mkdirSync(path.join(DIST, dir), { recursive: true });
      copyFileSync(path.join(ROOT, rel), path.join(DIST, rel));
    }
  }
};
for (const d of RUNTIME_DIRS) copyAssets(d);
writeFileSync(STAMP, `${new Date().toISOString()}\n`);
process.stderr.write(`govcase build: dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
