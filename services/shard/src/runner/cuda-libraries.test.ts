// @module The CUDA provider's needs read from its ELF headers and looked up as ld.so would; checked on real and on built ELF files.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { CUDA_PROVIDER_LIBRARIES, cudaProviderProblems, embedsRelease, readElfDependencies } from './cuda-libraries.ts';
import { ortLibraryDir } from './execution-provider.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-cuda-libs-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * A minimal 64-bit little-endian ELF shared object: one PT_LOAD mapping the file at address 0 and a
 * PT_DYNAMIC with DT_NEEDED/DT_RUNPATH entries into a DT_STRTAB, followed by `extra` bytes.
 */
function writeElf(file: string, needed: string[], opts: { runpath?: string; extra?: string } = {}): void {
  const names = [...needed, ...(opts.runpath ? [opts.runpath] : [])];
  const entries = names.length + 2; // + DT_STRTAB + DT_NULL
  const dynOffset = 64 + 2 * 56;
  const strOffset = dynOffset + entries * 16;
  const strings = Buffer.from(`\0${names.join('\0')}\0${opts.extra ?? ''}`);
  const buf = Buffer.alloc(strOffset + strings.length);
  buf.writeUInt32BE(0x7f454c46, 0);
  buf[4] = 2; // 64-bit
  buf[5] = 1; // little-endian
  buf[6] = 1;
  buf.writeUInt16LE(3, 16); // ET_DYN
  buf.writeUInt16LE(62, 18); // x86-64
  buf.writeUInt32LE(1, 20);
  buf.writeBigUInt64LE(64n, 0x20); // e_phoff
  buf.writeUInt16LE(64, 52);
  buf.writeUInt16LE(56, 0x36);
  buf.writeUInt16LE(2, 0x38);
  const ph = (i: number, type: number, offset: number, size: number) => {
    const at = 64 + i * 56;
    buf.writeUInt32LE(type, at);
    buf.writeBigUInt64LE(BigInt(offset), at + 8);
    buf.writeBigUInt64LE(BigInt(offset), at + 16); // vaddr = offset: the file is mapped at 0
    buf.writeBigUInt64LE(BigInt(size), at + 32);
    buf.writeBigUInt64LE(BigInt(size), at + 40);
  };
  ph(0, 1, 0, buf.length);
  ph(1, 2, dynOffset, entries * 16);
  let at = dynOffset;
  let str = 1;
  for (const [i, name] of names.entries()) {
    buf.writeBigInt64LE(opts.runpath && i === names.length - 1 ? 29n : 1n, at);
    buf.writeBigUInt64LE(BigInt(str), at + 8);
    str += Buffer.byteLength(name) + 1;
    at += 16;
  }
  buf.writeBigInt64LE(5n, at);
  buf.writeBigUInt64LE(BigInt(strOffset), at + 8);
  strings.copy(buf, strOffset);
  fs.writeFileSync(file, buf);
}

/** A library folder as `npm run gpu:cuda` leaves it, with a provider built to need `needed` and to carry `release`. */
function providerDir(name: string, needed: string[], release: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  writeElf(path.join(dir, 'libonnxruntime_providers_cuda.so'), needed, { runpath: '$ORIGIN', extra: `ORT\0${release}\0` });
  writeElf(path.join(dir, 'libonnxruntime_providers_shared.so'), ['libc.so.6']);
  fs.writeFileSync(path.join(dir, 'tessera-cuda.json'), JSON.stringify({ onnxruntime: release, cudaMajor: 13 }));
  return dir;
}

test("the NEEDED entries of onnxruntime's own libonnxruntime.so.1 are read as readelf lists them", () => {
  const lib = path.join(ortLibraryDir(), 'libonnxruntime.so.1');
  const { needed } = readElfDependencies(lib);
  for (const name of ['libstdc++.so.6', 'libc.so.6', 'libm.so.6']) assert.ok(needed.includes(name), `${name} in ${needed.join(', ')}`);
  const readelf = spawnSync('readelf', ['-d', lib], { encoding: 'utf8' });
  if (readelf.status === 0)
    assert.deepEqual(
      needed,
      [...readelf.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]),
    );
  assert.throws(() => readElfDependencies(path.join(ortLibraryDir(), '..', '..', '..', '..', 'package.json')), /not a 64-bit little-endian ELF/);
});

test('a built ELF round-trips: NEEDED, RUNPATH and the embedded release string', () => {
  const file = path.join(tmp, 'round-trip.so');
  writeElf(file, ['libcudart.so.13', 'libc.so.6'], { runpath: '$ORIGIN:/opt/x', extra: 'v\x001.29.0\0' });
  assert.deepEqual(readElfDependencies(file), { needed: ['libcudart.so.13', 'libc.so.6'], runpath: ['$ORIGIN', '/opt/x'] });
  assert.equal(embedsRelease(file, '1.29.0'), true);
  assert.equal(embedsRelease(file, '1.29.1'), false);
  assert.equal(embedsRelease(file, '1.2'), false, 'only the whole NUL-delimited string counts');
});

test('absent provider files: named, with the command that installs them', () => {
  const dir = path.join(tmp, 'absent');
  fs.mkdirSync(dir);
  const [problem] = cudaProviderProblems(dir, ort.env.versions.common);
  for (const f of CUDA_PROVIDER_LIBRARIES) assert.ok(problem!.includes(f));
  assert.match(problem!, /npm run gpu:cuda/);
});

test("another release's provider is refused by name before onnxruntime tries it", () => {
  const dir = providerDir('other-release', ['libc.so.6'], '1.29.0');
  const [problem] = cudaProviderProblems(dir, '1.30.0');
  assert.match(problem!, /is not onnxruntime 1\.30\.0's provider \(they are onnxruntime 1\.29\.0's\).*npm run gpu:cuda/);
});

test('each missing CUDA library is named with what it is; LD_LIBRARY_PATH, RUNPATH ($ORIGIN) and the system folders count as found', () => {
  const needed = ['libcublas.so.13', 'libtessera-test-cudart.so.13', 'libcuda.so.1', 'libtessera-beside.so.1', 'libc.so.6'];
  const dir = providerDir('needs', needed, '9.9.9');
  const [problem] = cudaProviderProblems(dir, '9.9.9', { LD_LIBRARY_PATH: '' });
  assert.match(
    problem!,
    /not on the library path: libcublas\.so\.13 \(cuBLAS of CUDA 13\), libtessera-test-cudart\.so\.13 \(a system library\), libcuda\.so\.1 \(the NVIDIA driver: .*--gpus all.*\), libtessera-beside\.so\.1 \(a system library\), libcudnn\.so\.9 \(cuDNN 9 for CUDA 13\)/,
  );
  assert.doesNotMatch(problem!, /libc\.so\.6/, 'found in the system folders');
  // Put every missing one where ld.so would look: one folder on LD_LIBRARY_PATH, one beside the provider.
  const extra = path.join(tmp, 'ld-path');
  fs.mkdirSync(extra);
  for (const lib of ['libcublas.so.13', 'libtessera-test-cudart.so.13', 'libcuda.so.1', 'libcudnn.so.9']) fs.writeFileSync(path.join(extra, lib), '');
  assert.match(cudaProviderProblems(dir, '9.9.9', { LD_LIBRARY_PATH: extra })[0]!, /not on the library path: libtessera-beside\.so\.1 \(a system library\) —/);
  fs.writeFileSync(path.join(dir, 'libtessera-beside.so.1'), '');
  assert.deepEqual(cudaProviderProblems(dir, '9.9.9', { LD_LIBRARY_PATH: extra }), []);
});
