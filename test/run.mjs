// Runs every *.test.ts of the repo with Node's test runner (Node 20's --test takes no globs).
// Usage: node test/run.mjs [path-prefix …]   e.g. node test/run.mjs packages/ services/router
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const roots = ['packages', 'services', 'bench', 'test'];
const filters = process.argv.slice(2).map((p) => path.normalize(p));
const files = roots
  .flatMap((dir) => readdirSync(path.join(root, dir), { recursive: true }).map((f) => path.join(dir, String(f))))
  .filter((f) => f.endsWith('.test.ts') && !f.split(path.sep).includes('node_modules'))
  .filter((f) => filters.length === 0 || filters.some((p) => f.startsWith(p)))
  .sort((a, b) => roots.indexOf(a.split(path.sep)[0]) - roots.indexOf(b.split(path.sep)[0]) || a.localeCompare(b));

if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// One file at a time: end-to-end files start real shard and router processes on a 2-core machine.
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
