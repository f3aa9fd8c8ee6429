// Whether dist/ (scripts/build.mjs) is at least as new as every TypeScript source beside it: then
// bin/tessera.js runs it instead of the sources through tsx, and test/run.mjs need not build again.
import fs from 'node:fs';
import path from 'node:path';

/** True when dist/.build-stamp exists and no file under proto/, packages/*\/src or services/*\/src is newer. */
export function distIsFresh(root) {
  let built;
  try {
    built = fs.statSync(path.join(root, 'dist', '.build-stamp')).mtimeMs;
  } catch {
    return false;
  }
  if (newerIn(path.join(root, 'proto'), built)) return false;
  for (const group of ['packages', 'services']) {
    let names;
    try {
      names = fs.readdirSync(path.join(root, group));
    } catch {
      continue; // an installed package ships no sources
    }
    for (const name of names) {
      if (newerIn(path.join(root, group, name, 'src'), built)) return false;
    }
  }
  return true;
}

function newerIn(dir, ms) {
  let files;
  try {
    files = fs.readdirSync(dir, { recursive: true });
  } catch {
    return false;
  }
  return files.some((f) => fs.statSync(path.join(dir, String(f))).mtimeMs > ms);
}
