// Compiles the services to JavaScript in dist/ (tsc), for the container images and the npm package:
// no TypeScript loader at run time. `node scripts/build.mjs [OUT] [--no-check]` (default dist/). docs/deploy.md.
// --no-check emits without type-checking (half the time): for test runs, where `npm run typecheck` checks.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const noCheck = args.includes('--no-check');
const out = path.resolve(args.find((a) => !a.startsWith('--')) ?? path.join(root, 'dist'));
const started = Date.now();
fs.rmSync(out, { recursive: true, force: true });
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', out, ...(noCheck ? ['--noCheck'] : [])], {
  stdio: 'inherit',
});
if (r.status !== 0) process.exit(r.status ?? 1);

/** Workspace packages: `@tessera/x` → its folder, and each exports entry → the compiled file. */
const workspaces = new Map();
for (const group of ['packages', 'services']) {
  for (const name of fs.readdirSync(path.join(root, group))) {
    const file = path.join(root, group, name, 'package.json');
    if (!fs.existsSync(file)) continue;
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
    workspaces.set(pkg.name, { dir: path.join(group, name), exports: pkg.exports });
    // Test-only workspaces (@tessera/testing) are not compiled: tsconfig.build.json leaves them out.
    if (!fs.existsSync(path.join(out, group, name))) continue;
    // services/router/src/main.ts reads its package.json (version); "type": "module" for the .js files.
    fs.writeFileSync(path.join(out, group, name, 'package.json'), JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module' }, null, 2));
  }
}

/** `@tessera/router/config` → the compiled file, relative to `fromFile`. */
function resolveWorkspace(specifier, fromFile) {
  const [, scope, name, sub] = /^(@tessera)\/([\w-]+)(\/[\w-]+)?$/.exec(specifier) ?? [];
  const ws = scope && workspaces.get(`${scope}/${name}`);
  const target = ws?.exports[sub ? `.${sub}` : '.'];
  if (!target) throw new Error(`${fromFile}: cannot resolve ${specifier}`);
  const file = path.join(out, ws.dir, target.replace(/\.ts$/, '.js'));
  const rel = path.relative(path.dirname(fromFile), file).split(path.sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

// The compiled tree is self-contained: workspace imports become relative paths (no node_modules links
// needed, so it also works inside the npm tarball, which never ships node_modules).
let rewritten = 0;
for (const file of fs
  .readdirSync(out, { recursive: true })
  .map((f) => path.join(out, String(f)))
  .filter((f) => f.endsWith('.js'))) {
  const text = fs.readFileSync(file, 'utf8');
  const next = text.replace(/(['"])(@tessera\/[\w-]+(?:\/[\w-]+)?)\1/g, (_m, q, spec) => {
    rewritten++;
    return `${q}${resolveWorkspace(spec, file)}${q}`;
  });
  if (next !== text) fs.writeFileSync(file, next);
}

// Files the code reads beside itself: the protos, the status page, the root package.json (version).
fs.cpSync(path.join(root, 'proto'), path.join(out, 'proto'), { recursive: true });
fs.copyFileSync(path.join(root, 'services/router/src/observability/status-page.html'), path.join(out, 'services/router/src/observability/status-page.html'));
const rootPkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
fs.writeFileSync(path.join(out, 'package.json'), JSON.stringify({ name: rootPkg.name, version: rootPkg.version, type: 'module' }, null, 2));
// The launcher starts its children through this entry (supervisor.ts: ../../../bin/tessera.js).
fs.mkdirSync(path.join(out, 'bin'));
fs.writeFileSync(
  path.join(out, 'bin', 'tessera.js'),
  "#!/usr/bin/env node\n// The compiled `tessera` command (scripts/build.mjs).\nconst { runCli } = await import('../services/launcher/src/cli.js');\nprocess.exitCode = await runCli(process.argv.slice(2));\n",
  { mode: 0o755 },
);
fs.writeFileSync(path.join(out, '.build-stamp'), `${new Date().toISOString()}\n`);
console.error(`build: ${out} (${rewritten} workspace imports made relative) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
