#!/usr/bin/env node
// `npm run gpu:cuda`: gives this install onnxruntime's CUDA provider from the npm registry alone.
// onnxruntime-node ships no CUDA provider (its postinstall fetches one from NuGet). The npm package
// com.github.asus4.onnxruntime.linux-x64-gpu carries onnxruntime's own release binaries of the CUDA
// provider; a provider loads only into the core of exactly its version, so this install's core
// (onnxruntime-node + onnxruntime-common) is pinned to that version too. `npm ci` undoes it all.
// Plain JavaScript on purpose: it runs in the image build before anything else (docs/gpu.md).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

/** The provider package and the onnxruntime release its libraries come from (its README says 1.29.0). */
export const CUDA_BUNDLE = {
  providerPackage: 'com.github.asus4.onnxruntime.linux-x64-gpu',
  providerVersion: '0.4.9',
  onnxruntime: '1.29.0',
  cudaMajor: 13,
  cudnnMajor: 9,
};
const PROVIDER_FILES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_tensorrt.so'];
/** Written beside the libraries; `tessera check-device --device cuda` compares it with the loaded core. */
export const MARKER_FILE = 'tessera-cuda.json';

const USAGE = `usage: npm run gpu:cuda [-- --dry-run]
Replaces this install's onnxruntime-node and onnxruntime-common with ${CUDA_BUNDLE.onnxruntime} and puts the CUDA
provider libraries of the same release (npm: ${CUDA_BUNDLE.providerPackage}@${CUDA_BUNDLE.providerVersion}) beside
libonnxruntime.so.1. Needs only the npm registry. The host needs CUDA ${CUDA_BUNDLE.cudaMajor} (cudart, cuBLAS, cuRAND),
cuDNN ${CUDA_BUNDLE.cudnnMajor} and an NVIDIA driver for CUDA ${CUDA_BUNDLE.cudaMajor}. \`npm ci\` restores the CPU-only install.`;

/** The folder of package `name` as Node resolves it from `from` (onnxruntime-common exports no package.json). */
function packageDir(name, from) {
  let dir = path.dirname(createRequire(path.join(from, 'noop.js')).resolve(name));
  while (!fs.existsSync(path.join(dir, 'package.json')) || JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== name) {
    if (path.dirname(dir) === dir) throw new Error(`cannot find the folder of ${name}`);
    dir = path.dirname(dir);
  }
  return dir;
}

function npmPack(spec, destination) {
  // npm's own registry settings (proxy, mirror, cache) apply; --json names the file it wrote.
  const out = execFileSync('npm', ['pack', spec, '--json', '--pack-destination', destination], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return path.join(destination, JSON.parse(out)[0].filename);
}

function unpack(tarball, destination) {
  fs.mkdirSync(destination, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', destination, '--strip-components=1']);
}

/** Swaps `target` for `replacement` (both directories) so a failed copy never leaves half a package. */
function replaceDir(target, replacement) {
  const old = `${target}.tessera-old`;
  fs.rmSync(old, { recursive: true, force: true });
  fs.renameSync(target, old);
  fs.cpSync(replacement, target, { recursive: true });
  fs.rmSync(old, { recursive: true, force: true });
}

export function installCuda({ root, dryRun = false, log = console.log, fetchPackage = npmPack }) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    // The provider is built for linux/x64 only.
    throw new Error(`the CUDA provider is published for linux/x64 only, this is ${process.platform}/${process.arch}`);
  }
  const nodeDir = packageDir('onnxruntime-node', root);
  const commonDir = packageDir('onnxruntime-common', nodeDir);
  const libDir = path.join(nodeDir, 'bin', 'napi-v6', 'linux', 'x64');
  const specs = [
    `onnxruntime-node@${CUDA_BUNDLE.onnxruntime}`,
    `onnxruntime-common@${CUDA_BUNDLE.onnxruntime}`,
    `${CUDA_BUNDLE.providerPackage}@${CUDA_BUNDLE.providerVersion}`,
  ];
  log(`onnxruntime-node: ${nodeDir}\nonnxruntime-common: ${commonDir}\nfrom the npm registry: ${specs.join(', ')}`);
  if (dryRun) return { nodeDir, commonDir, libDir, specs };

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-cuda-'));
  try {
    const [nodeTgz, commonTgz, providerTgz] = specs.map((spec) => {
      log(`fetching ${spec} …`);
      return fetchPackage(spec, work);
    });
    const provider = path.join(work, 'provider');
    unpack(providerTgz, provider);
    const providerLibs = path.join(provider, 'Plugins', 'Linux', 'x64');
    // The provider embeds its release string; refuse a package whose libraries are another release.
    const cudaLib = fs.readFileSync(path.join(providerLibs, 'libonnxruntime_providers_cuda.so'));
    if (!cudaLib.includes(Buffer.from(`\0${CUDA_BUNDLE.onnxruntime}\0`))) {
      throw new Error(`${specs[2]}: libonnxruntime_providers_cuda.so does not carry onnxruntime ${CUDA_BUNDLE.onnxruntime}`);
    }
    unpack(nodeTgz, path.join(work, 'onnxruntime-node'));
    unpack(commonTgz, path.join(work, 'onnxruntime-common'));
    for (const f of PROVIDER_FILES) fs.copyFileSync(path.join(providerLibs, f), path.join(work, 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64', f));
    fs.writeFileSync(
      path.join(work, 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64', MARKER_FILE),
      `${JSON.stringify({ ...CUDA_BUNDLE, files: PROVIDER_FILES }, null, 2)}\n`,
    );
    replaceDir(commonDir, path.join(work, 'onnxruntime-common'));
    replaceDir(nodeDir, path.join(work, 'onnxruntime-node'));
    log(`installed onnxruntime ${CUDA_BUNDLE.onnxruntime} with its CUDA provider in ${libDir}\nnext: tessera check-device --device cuda`);
    return { nodeDir, commonDir, libDir, specs };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
  } else {
    const unknown = args.filter((a) => a !== '--dry-run');
    if (unknown.length > 0) {
      console.error(`install-cuda: unknown argument ${unknown[0]}\n${USAGE}`);
      process.exit(2);
    }
    try {
      installCuda({ root: path.resolve(path.dirname(new URL(import.meta.url).pathname), '..'), dryRun: args.includes('--dry-run') });
    } catch (err) {
      console.error(`install-cuda: ${err.message}`);
      process.exit(1);
    }
  }
}
