#!/usr/bin/env node
// Entry point of the `tessera` command. Runs the compiled JavaScript in dist/ (scripts/build.mjs: the
// images and the npm package ship it) when it is at least as new as every TypeScript source beside it;
// otherwise the sources through tsx, so a fresh clone runs without a build and an edit is never shadowed
// by a stale build. TESSERA_RUNTIME=source|dist forces one.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = path.join(root, 'dist', '.build-stamp');

/** True when a file under packages/*\/src, services/*\/src or proto/ is newer than the build (a checkout being edited). */
function sourcesNewerThan(ms) {
  if (newerIn(path.join(root, 'proto'), ms)) return true;
  for (const group of ['packages', 'services']) {
    let names;
    try {
      names = fs.readdirSync(path.join(root, group));
    } catch {
      continue; // an installed package ships no sources
    }
    for (const name of names) {
      if (newerIn(path.join(root, group, name, 'src'), ms)) return true;
    }
  }
  return false;
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

function useDist() {
  const forced = process.env.TESSERA_RUNTIME;
  if (forced === 'dist' || forced === 'source') return forced === 'dist';
  let built;
  try {
    built = fs.statSync(stamp).mtimeMs;
  } catch {
    return false;
  }
  return !sourcesNewerThan(built);
}

let runCli;
if (process.env.TESSERA_RUNTIME === 'dist' && !fs.existsSync(stamp)) {
  console.error("tessera: TESSERA_RUNTIME=dist but there is no build in dist/ (run 'npm run build')");
  process.exit(2);
}
if (useDist()) {
  ({ runCli } = await import('../dist/services/launcher/src/cli.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ runCli } = await import('../services/launcher/src/cli.ts'));
}
process.exitCode = await runCli(process.argv.slice(2));
