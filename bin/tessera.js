#!/usr/bin/env node
// Entry point of the `tessera` command. Runs the compiled JavaScript in dist/ (scripts/build.mjs: the
// images and the npm package ship it) when it is at least as new as every TypeScript source beside it;
// otherwise the sources through tsx, so a fresh clone runs without a build and an edit is never shadowed
// by a stale build. TESSERA_RUNTIME=source|dist forces one.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { distIsFresh } from './dist-freshness.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = path.join(root, 'dist', '.build-stamp');

function useDist() {
  const forced = process.env.TESSERA_RUNTIME;
  if (forced === 'dist' || forced === 'source') return forced === 'dist';
  return distIsFresh(root);
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
