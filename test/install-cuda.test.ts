// `npm run gpu:cuda` (scripts/install-cuda.mjs) on a throw-away install: the core swapped for the provider's release, the provider beside it, a wrong release refused with nothing changed.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CUDA_BUNDLE, installCuda, MARKER_FILE } from '../scripts/install-cuda.mjs';
import { REPO_ROOT } from './helpers/paths.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-install-cuda-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** An npm tarball (files under package/) made with the system tar, as `npm pack` would write it. */
function tarball(name: string, files: Record<string, string | Buffer>): string {
  const dir = path.join(tmp, 'src', name);
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, 'package', file)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'package', file), content);
  }
  const out = path.join(tmp, `${name}.tgz`);
  execFileSync('tar', ['-czf', out, '-C', dir, 'package']);
  return out;
}

const pkg = (name: string, version: string) => ({ 'package.json': JSON.stringify({ name, version, main: 'index.js' }), 'index.js': '' });
const LIB = 'bin/napi-v6/linux/x64';

/** node_modules as `npm ci` leaves it: onnxruntime-node and onnxruntime-common 1.30.0. */
function install(name: string): string {
  const root = path.join(tmp, name);
  for (const [dir, files] of [
    ['onnxruntime-node', { ...pkg('onnxruntime-node', '1.30.0'), [`${LIB}/libonnxruntime.so.1`]: 'core 1.30.0' }],
    ['onnxruntime-common', pkg('onnxruntime-common', '1.30.0')],
  ] as const) {
    for (const [file, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, 'node_modules', dir, file)), { recursive: true });
      fs.writeFileSync(path.join(root, 'node_modules', dir, file), content);
    }
  }
  return root;
}

function registry(providerRelease: string): (spec: string) => string {
  const providerLib = (what: string) => Buffer.from(`ELF…${what}\0${providerRelease}\0…`);
  const tarballs: Record<string, string> = {
    [`onnxruntime-node@${CUDA_BUNDLE.onnxruntime}`]: tarball(`node-${providerRelease}`, {
      ...pkg('onnxruntime-node', CUDA_BUNDLE.onnxruntime),
      [`${LIB}/libonnxruntime.so.1`]: `core ${CUDA_BUNDLE.onnxruntime}`,
    }),
    [`onnxruntime-common@${CUDA_BUNDLE.onnxruntime}`]: tarball(`common-${providerRelease}`, pkg('onnxruntime-common', CUDA_BUNDLE.onnxruntime)),
    [`${CUDA_BUNDLE.providerPackage}@${CUDA_BUNDLE.providerVersion}`]: tarball(`provider-${providerRelease}`, {
      'package.json': JSON.stringify({ name: CUDA_BUNDLE.providerPackage, version: CUDA_BUNDLE.providerVersion }),
      'Plugins/Linux/x64/libonnxruntime_providers_cuda.so': providerLib('cuda'),
      'Plugins/Linux/x64/libonnxruntime_providers_shared.so': providerLib('shared'),
      'Plugins/Linux/x64/libonnxruntime_providers_tensorrt.so': providerLib('tensorrt'),
    }),
  };
  return (spec) => {
    assert.ok(tarballs[spec], `asked the registry for ${spec}`);
    return tarballs[spec]!;
  };
}

function copyInto(file: string, destination: string): string {
  fs.copyFileSync(file, path.join(destination, path.basename(file)));
  return path.join(destination, path.basename(file));
}

const version = (root: string, name: string) =>
  (JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

test("the core becomes the provider's release and the provider lands beside libonnxruntime.so.1, with a marker", () => {
  const root = install('ok');
  const fetched: string[] = [];
  const fetch = registry(CUDA_BUNDLE.onnxruntime);
  const r = installCuda({ root, log: () => {}, fetchPackage: (spec, destination) => (fetched.push(spec), copyInto(fetch(spec), destination)) });
  assert.deepEqual(fetched, r.specs);
  assert.equal(version(root, 'onnxruntime-node'), CUDA_BUNDLE.onnxruntime);
  assert.equal(version(root, 'onnxruntime-common'), CUDA_BUNDLE.onnxruntime);
  const lib = path.join(root, 'node_modules', 'onnxruntime-node', LIB);
  assert.equal(r.libDir, lib);
  assert.equal(fs.readFileSync(path.join(lib, 'libonnxruntime.so.1'), 'utf8'), `core ${CUDA_BUNDLE.onnxruntime}`);
  for (const f of ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so', 'libonnxruntime_providers_tensorrt.so'])
    assert.ok(fs.existsSync(path.join(lib, f)), f);
  const marker = JSON.parse(fs.readFileSync(path.join(lib, MARKER_FILE), 'utf8')) as { onnxruntime: string; cudaMajor: number };
  assert.deepEqual([marker.onnxruntime, marker.cudaMajor], [CUDA_BUNDLE.onnxruntime, 13]);
  assert.deepEqual(fs.readdirSync(path.join(root, 'node_modules')).sort(), ['onnxruntime-common', 'onnxruntime-node'], 'no leftovers');
});

test('a provider package of another release is refused and the install is left as it was', () => {
  const root = install('wrong');
  const fetch = registry('1.28.0');
  assert.throws(
    () => installCuda({ root, log: () => {}, fetchPackage: (spec, destination) => copyInto(fetch(spec), destination) }),
    new RegExp(`does not carry onnxruntime ${CUDA_BUNDLE.onnxruntime.replaceAll('.', '\\.')}`),
  );
  assert.equal(version(root, 'onnxruntime-node'), '1.30.0');
  assert.equal(version(root, 'onnxruntime-common'), '1.30.0');
  assert.equal(fs.existsSync(path.join(root, 'node_modules', 'onnxruntime-node', LIB, 'libonnxruntime_providers_cuda.so')), false);
});

test('the command: --dry-run names what it would fetch and touches nothing; unknown arguments exit 2', () => {
  const run = (args: string[]) => spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'install-cuda.mjs'), ...args], { encoding: 'utf8' });
  const dry = run(['--dry-run']);
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(
    dry.stdout,
    new RegExp(
      `onnxruntime-node@${CUDA_BUNDLE.onnxruntime.replaceAll('.', '\\.')}, onnxruntime-common@.*${CUDA_BUNDLE.providerPackage}@${CUDA_BUNDLE.providerVersion}`,
    ),
  );
  assert.equal(run(['--nope']).status, 2);
  assert.match(run(['--help']).stdout, /CUDA 13 \(cudart, cuBLAS, cuRAND\),\s+cuDNN 9/);
});
