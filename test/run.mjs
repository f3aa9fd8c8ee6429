// Runs every *.test.ts of the repo with Node's test runner (Node 20's --test takes no globs).
// Usage: node test/run.mjs [--record-durations] [path-prefix …]   e.g. node test/run.mjs packages/ services/router
// --record-durations writes each file's measured test time into test/durations.json (see packBundles).
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { distIsFresh } from '../bin/dist-freshness.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const roots = ['packages', 'services', 'bench', 'test'];
const args = process.argv.slice(2);
const record = args.includes('--record-durations');
const filters = args.filter((a) => !a.startsWith('--')).map((p) => path.normalize(p));
const durationsPath = path.join(root, 'test', 'durations.json');
const durations = existsSync(durationsPath) ? JSON.parse(readFileSync(durationsPath, 'utf8')) : {};
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
// it starts now, while the other files run, instead of once per file.
const usesShared = (f) => isEndToEnd(f) && sources.get(f).includes('sharedCluster(');
const shared = files.some(usesShared) ? await startSharedCluster() : null;
const env = shared === null ? process.env : { ...process.env, TESSERA_TEST_SHARED_CLUSTER_URL: shared.url, TESSERA_TEST_SHARED_CLUSTER_LOG: shared.log };

// The files run in bundles: one process imports several test files. A process that starts under tsx and
// loads the router and shard modules costs ~1 CPU-second before its first test, and most unit files
// test for less than that (126 unit files: 117 s one process each, two at a time; 54 s in two bundles).
// Bundles run `concurrency` at a time, the heaviest first; test/durations.json (measured by
// `--record-durations`) balances them. Files sending traffic to the shared cluster share one bundle, so
// they run one after another: some assert on the cluster's counters.
const concurrency = Number(process.env.TESSERA_TEST_CONCURRENCY ?? 3);
const bundles = packBundles(
  [...files.filter((f) => !usesShared(f)).map((f) => [f]), files.filter(usesShared)].filter((b) => b.length > 0),
  Math.min(files.length, 2 * concurrency),
);
const bundleDir = mkdtempSync(path.join(os.tmpdir(), 'tessera-test-bundles-'));
const entries = bundles.map((bundle, i) => {
  const entry = path.join(bundleDir, `bundle-${i + 1}.test.mjs`);
  writeFileSync(entry, bundle.map((f) => `import ${JSON.stringify(pathToFileURL(path.join(root, f)).href)};\n`).join(''));
  return entry;
});
const timings = record ? path.join(bundleDir, 'durations.tsv') : null;
const reporters =
  timings === null
    ? []
    : [
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        `--test-reporter=${path.join(root, 'test', 'durations-reporter.mjs')}`,
        `--test-reporter-destination=${timings}`,
      ];
const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...reporters, ...entries], {
  cwd: root,
  stdio: 'inherit',
  env,
});
const [code] = await once(child, 'exit');
await shared?.stop();
if (timings !== null && existsSync(timings)) recordDurations(timings);
rmSync(bundleDir, { recursive: true, force: true });
process.exit(code === 0 ? 0 : 1);

/** Seconds a file is expected to take: its tests' measured time plus its start-up, or a guess. */
function expectedSeconds(file) {
  const measured = durations[file.split(path.sep).join('/')];
  return (measured ?? (isEndToEnd(file) ? 5 : 0.5)) + (isEndToEnd(file) ? 1 : 0.2);
}

/** Longest-processing-time packing of file groups into `count` bundles, heaviest bundle first. */
function packBundles(groups, count) {
  const bins = Array.from({ length: Math.max(1, count) }, () => ({ files: [], seconds: 0 }));
  const weighed = groups.map((g) => ({ files: g, seconds: g.reduce((s, f) => s + expectedSeconds(f), 0) }));
  for (const group of weighed.sort((a, b) => b.seconds - a.seconds)) {
    const bin = bins.reduce((min, b) => (b.seconds < min.seconds ? b : min));
    bin.files.push(...group.files);
    bin.seconds += group.seconds;
  }
  return bins
    .filter((b) => b.files.length > 0)
    .sort((a, b) => b.seconds - a.seconds)
    .map((b) => b.files);
}

/** Adds this run's per-file test time (sum of its top-level tests) to test/durations.json. */
function recordDurations(tsv) {
  const seconds = {};
  for (const line of readFileSync(tsv, 'utf8').split('\n').filter(Boolean)) {
    const [ms, file] = line.split('\t');
    const key = path.relative(root, file).split(path.sep).join('/');
    seconds[key] = (seconds[key] ?? 0) + Number(ms) / 1000;
  }
  const merged = { ...durations, ...Object.fromEntries(Object.entries(seconds).map(([f, s]) => [f, Math.round(s * 10) / 10])) };
  const sorted = Object.fromEntries(
    Object.keys(merged)
      .sort()
      .filter((f) => existsSync(path.join(root, f)))
      .map((f) => [f, merged[f]]),
  );
  writeFileSync(durationsPath, `${JSON.stringify(sorted, null, 2)}\n`);
  console.log(`recorded the test time of ${Object.keys(seconds).length} files in test/durations.json`);
}

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
