// @module What the CUDA provider needs from the host, checked before onnxruntime tries: its release, and every shared library it links, found as the dynamic loader would.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The provider's libraries that must sit beside libonnxruntime.so.1 (the TensorRT one is optional). */
export const CUDA_PROVIDER_LIBRARIES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
/** Written by `npm run gpu:cuda` (scripts/install-cuda.mjs) beside the libraries. */
export const CUDA_MARKER_FILE = 'tessera-cuda.json';
/** The provider loads cuDNN with dlopen, so it is not among its NEEDED entries. */
const DLOPENED = ['libcudnn.so.9'];

/** DT_NEEDED and DT_RUNPATH/DT_RPATH of a 64-bit little-endian ELF shared object. */
export function readElfDependencies(file: string): { needed: string[]; runpath: string[] } {
  const fd = fs.openSync(file, 'r');
  try {
    const read = (offset: number, length: number, partial = false): Buffer => {
      const buf = Buffer.alloc(length);
      const n = fs.readSync(fd, buf, 0, length, offset);
      if (n < length && !partial) throw new Error(`${file}: not an ELF shared object (truncated at byte ${offset + n})`);
      return buf.subarray(0, n);
    };
    const head = read(0, 64);
    if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2 || head[5] !== 1) throw new Error(`${file}: not a 64-bit little-endian ELF file`);
    const phoff = Number(head.readBigUInt64LE(0x20));
    const phentsize = head.readUInt16LE(0x36);
    const phnum = head.readUInt16LE(0x38);
    const table = read(phoff, phentsize * phnum);
    const segments = Array.from({ length: phnum }, (_, i) => {
      const at = i * phentsize;
      return {
        type: table.readUInt32LE(at),
        offset: Number(table.readBigUInt64LE(at + 8)),
        vaddr: Number(table.readBigUInt64LE(at + 16)),
        filesz: Number(table.readBigUInt64LE(at + 32)),
      };
    });
    const dynamic = segments.find((s) => s.type === 2);
    if (!dynamic) return { needed: [], runpath: [] };
    // DT_STRTAB holds an address; the PT_LOAD segment that maps it gives its place in the file.
    const fileOffset = (vaddr: number): number => {
      const load = segments.find((s) => s.type === 1 && vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz);
      if (!load) throw new Error(`${file}: address 0x${vaddr.toString(16)} is in no loaded segment`);
      return load.offset + (vaddr - load.vaddr);
    };
    const dyn = read(dynamic.offset, dynamic.filesz);
    const entries: Array<[number, number]> = [];
    for (let at = 0; at + 16 <= dyn.length; at += 16) {
      const tag = Number(dyn.readBigInt64LE(at));
      if (tag === 0) break;
      entries.push([tag, Number(dyn.readBigUInt64LE(at + 8))]);
    }
    const strtab = entries.find(([tag]) => tag === 5);
    if (!strtab) return { needed: [], runpath: [] };
    const strtabOffset = fileOffset(strtab[1]);
    const str = (index: number): string => {
      const chunk = read(strtabOffset + index, 4096, true);
      const end = chunk.indexOf(0);
      if (end < 0) throw new Error(`${file}: unterminated string in the dynamic string table`);
      return chunk.subarray(0, end).toString('utf8');
    };
    return {
      needed: entries.filter(([tag]) => tag === 1).map(([, v]) => str(v)),
      runpath: entries
        .filter(([tag]) => tag === 29 || tag === 15)
        .flatMap(([, v]) => str(v).split(':'))
        .filter((p) => p !== ''),
    };
  } finally {
    fs.closeSync(fd);
  }
}

/** The folders ld.so searches, in its order, except the object's own RUNPATH; and the ld.so.cache names. */
export function loaderSearchPath(env: NodeJS.ProcessEnv = process.env): { dirs: string[]; cached: Map<string, string> } {
  const dirs = (env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d !== '');
  const cached = new Map<string, string>();
  for (const ldconfig of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    const r = spawnSync(ldconfig, ['-p'], { encoding: 'utf8' });
    if (r.status !== 0) continue;
    // "\tlibcudart.so.13 (libc6,x86-64) => /usr/local/cuda/lib64/libcudart.so.13"
    for (const m of r.stdout.matchAll(/^\s+(\S+) \(([^)]*)\) => (\S+)$/gm)) {
      if (m[2]!.includes('x86-64') && !cached.has(m[1]!)) cached.set(m[1]!, m[3]!);
    }
    break;
  }
  dirs.push('/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib');
  return { dirs, cached };
}

/** What each library the provider needs is, and where it comes from: the line a user acts on. */
function describeLibrary(name: string, cudaMajor: string): string {
  if (name === 'libcuda.so.1') return 'the NVIDIA driver: none is installed, or the container runs without the GPU — --gpus all, the NVIDIA runtime';
  if (name.startsWith('libcudnn')) return `cuDNN 9 for CUDA ${cudaMajor}`;
  if (name.startsWith('libcudart')) return `the CUDA ${cudaMajor} runtime`;
  if (name.startsWith('libcublas')) return `cuBLAS of CUDA ${cudaMajor}`;
  if (name.startsWith('libcurand')) return `cuRAND of CUDA ${cudaMajor}`;
  return 'a system library';
}

/** Whether `file` carries the release string `version` as onnxruntime embeds it (NUL-delimited). */
export function embedsRelease(file: string, version: string): boolean {
  const needle = Buffer.from(`\0${version}\0`);
  const fd = fs.openSync(file, 'r');
  try {
    const chunk = Buffer.alloc(16 << 20);
    let carry = Buffer.alloc(0);
    for (let position = 0; ; ) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, position);
      if (n === 0) return false;
      const window = Buffer.concat([carry, chunk.subarray(0, n)]);
      if (window.includes(needle)) return true;
      carry = window.subarray(window.length - needle.length);
      position += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Every reason the CUDA provider in `libraryDir` cannot load into onnxruntime `coreVersion` on this
 * host that can be seen without loading it: absent provider files, another release's files, and
 * each missing shared library by name. Empty when nothing is visibly missing.
 */
export function cudaProviderProblems(libraryDir: string, coreVersion: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const absent = CUDA_PROVIDER_LIBRARIES.filter((f) => !fs.existsSync(path.join(libraryDir, f)));
  if (absent.length > 0) {
    return [
      `the CUDA provider libraries ${absent.join(', ')} are not in ${libraryDir} (onnxruntime-node does not ship them: run \`npm run gpu:cuda\`, which takes them from the npm registry; see docs/gpu.md)`,
    ];
  }
  const provider = path.join(libraryDir, 'libonnxruntime_providers_cuda.so');
  const marker = readMarker(libraryDir);
  if (!embedsRelease(provider, coreVersion)) {
    const theirs = marker?.onnxruntime ? ` (they are onnxruntime ${marker.onnxruntime}'s)` : '';
    return [
      `libonnxruntime_providers_cuda.so in ${libraryDir} is not onnxruntime ${coreVersion}'s provider${theirs}; a provider loads only into the core of its own release: run \`npm run gpu:cuda\` again after \`npm ci\``,
    ];
  }
  const cudaMajor = String(marker?.cudaMajor ?? '13');
  const { needed, runpath } = readElfDependencies(provider);
  const { dirs, cached } = loaderSearchPath(env);
  const searchDirs = [...runpath.map((d) => d.replace('$ORIGIN', libraryDir)), ...dirs];
  const missing = [...needed, ...DLOPENED].filter((lib) => !cached.has(lib) && !searchDirs.some((d) => fs.existsSync(path.join(d, lib))));
  if (missing.length === 0) return [];
  return [
    `libraries the CUDA provider needs are not on the library path: ${missing.map((lib) => `${lib} (${describeLibrary(lib, cudaMajor)})`).join(', ')} — ` +
      `use the nvidia/cuda:${cudaMajor}.x-cudnn-runtime image, or install them and add their folder to LD_LIBRARY_PATH (docs/gpu.md)`,
  ];
}

function readMarker(libraryDir: string): { onnxruntime?: string; cudaMajor?: number } | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(libraryDir, CUDA_MARKER_FILE), 'utf8')) as { onnxruntime?: string; cudaMajor?: number };
  } catch {
    return null;
  }
}
