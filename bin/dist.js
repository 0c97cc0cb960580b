// Whether dist/ (the compiled server, `npm run build`) may be run instead of the TypeScript sources:
// only when its stamp is at least as new as every source file it was built from.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const RUNTIME_DIRS = ['domain', 'application', 'infrastructure', 'projections', 'graphql'];
export const ASSET = /\.(sql|graphql)$/;
export const DIST = path.join(ROOT, 'dist');
export const STAMP = path.join(DIST, '.built');

const newest = (dir) => {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts') || ASSET.test(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
};

export const newestSource = () => Math.max(...RUNTIME_DIRS.map((d) => newest(path.join(ROOT, d))), statSync(path.join(ROOT, 'tsconfig.build.json')).mtimeMs);

export const distIsFresh = () => {
  try {
    return statSync(STAMP).mtimeMs >= newestSource();
  } catch {
    return false;
  }
};
