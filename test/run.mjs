// Runs every *.test.ts of the repo with Node's test runner (Node 20's --test takes no globs).
// Usage: node test/run.mjs [path-prefix …]   e.g. node test/run.mjs packages/ services/router
import { mkdtempSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { distIsFresh } from '../bin/dist-freshness.js';

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
const isEndToEnd = (f) => f.startsWith(`test${path.sep}`);
const sources = new Map(files.map((f) => [f, readFileSync(path.join(root, f), 'utf8')]));
// Files that start `tessera` processes run them from the compiled dist/ (bin/tessera.js picks it when
// fresh): a launcher cluster is ready in about half the time it takes through tsx, and the suite starts
// dozens. The build emits without type-checking (~5 s); `npm test` type-checks before this runs.
const spawnsServices = (f) => /tessera\.js|startCluster\(|startService\(|sharedCluster\(/.test(sources.get(f));
if (process.env.TESSERA_RUNTIME !== 'source' && !distIsFresh(root) && files.some(spawnsServices)) {
  const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--no-check'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
// Files that call sharedCluster() (test/helpers/shared-cluster.ts) share one default cluster for the run:
// it starts now, while the unit tests run, instead of once per file.
const shared = files.some((f) => isEndToEnd(f) && sources.get(f).includes('sharedCluster(')) ? await startSharedCluster() : null;
// Two runs. Unit and service files (packages/, services/, bench/) two at a time: most of their time is
// process start-up and module loading, and two at once cut that part of the suite by a quarter on 2
// cores. Then the end-to-end files (test/) one at a time: each starts real shard and router processes
// and some assert on latency under load. TESSERA_TEST_CONCURRENCY overrides the first run's 2.
const env = shared === null ? process.env : { ...process.env, TESSERA_TEST_SHARED_CLUSTER_URL: shared.url, TESSERA_TEST_SHARED_CLUSTER_LOG: shared.log };
let failed = false;
for (const [group, concurrency] of [
  [files.filter((f) => !isEndToEnd(f)), process.env.TESSERA_TEST_CONCURRENCY ?? '2'],
  [files.filter(isEndToEnd), '1'],
]) {
  if (group.length === 0) continue;
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...group], { cwd: root, stdio: 'inherit', env });
  const [code] = await once(child, 'exit');
  if (code !== 0) failed = true;
}
await shared?.stop();
process.exit(failed ? 1 : 0);

/** `tessera launch` with default flags on a free port; the files wait for its /health themselves. */
async function startSharedCluster() {
  const port = await new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.once('error', reject);
  });
  const log = path.join(mkdtempSync(path.join(os.tmpdir(), 'tessera-shared-cluster-')), 'launcher.log');
  const out = openSync(log, 'w');
  const cache = path.join(root, '.cache', 'test');
  const launcher = spawn(
    process.execPath,
    [path.join(root, 'bin', 'tessera.js'), 'launch', '--port', String(port), '--cache-dir', cache, '--log-level', 'warn'],
    {
      cwd: root,
      stdio: ['ignore', out, out],
    },
  );
  const exited = once(launcher, 'exit');
  const stopOnExit = () => launcher.kill('SIGTERM');
  process.on('exit', stopOnExit);
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    async stop() {
      process.off('exit', stopOnExit);
      if (launcher.exitCode === null && launcher.signalCode === null) launcher.kill('SIGTERM');
      const timer = setTimeout(() => launcher.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
