// @module Picks the onnxruntime execution provider explicitly (no silent CPU fallback) and explains why one cannot load.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ExecutionProviderError } from '../errors.ts';
import { cudaProviderProblems } from './cuda-libraries.ts';

export { CUDA_PROVIDER_LIBRARIES } from './cuda-libraries.ts';

export type Device = 'cpu' | 'cuda' | 'webgpu';

/** The folder onnxruntime-node loads libonnxruntime.so.1 and any provider libraries from. */
export function ortLibraryDir(): string {
  const pkg = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  return path.join(path.dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * What stops `device` from loading that can be seen before trying, or null. WebGPU needs a GPU
 * adapter (Vulkan on Linux), which only a session start can find.
 */
export function missingForDevice(device: Device, libraryDir = ortLibraryDir()): string | null {
  const backends = ort.listSupportedBackends?.() ?? [];
  if (device === 'cpu') return null;
  if (!backends.some((b) => b.name === device)) {
    return `this onnxruntime-node ${ort.env.versions.common} build has no "${device}" execution provider on ${process.platform}/${process.arch}`;
  }
  if (device === 'cuda') {
    const problems = cudaProviderProblems(libraryDir, ort.env.versions.common);
    if (problems.length > 0) return problems.join('; ');
  }
  return null;
}

/**
 * Session options naming only `device`: a provider that cannot load fails the session (no silent
 * fallback to the CPU provider). onnxruntime still places shape arithmetic (Shape, the Concat of
 * shape vectors) on the CPU by design, so its `disable_cpu_ep_fallback` cannot be used; the
 * WebGPU test checks instead that nothing else lands there.
 */
export function sessionOptionsFor(device: Device, deviceId: number, threads?: number): ort.InferenceSession.SessionOptions {
  if (device === 'webgpu' && deviceId !== 0) {
    throw new ExecutionProviderError(
      '--device-id must be 0 with --device webgpu: onnxruntime-node takes the default WebGPU adapter (choose the GPU with the container runtime, e.g. NVIDIA_VISIBLE_DEVICES)',
    );
  }
  // WebGPU validation ('disabled' | 'wgpuOnly' | 'basic' | 'full') trades checks for per-dispatch CPU time.
  const validation = process.env.TESSERA_WEBGPU_VALIDATION;
  const webgpu = { name: 'webgpu', ...(validation ? { validationMode: validation } : {}) } as ort.InferenceSession.ExecutionProviderConfig;
  const provider: ort.InferenceSession.ExecutionProviderConfig = device === 'cpu' ? 'cpu' : device === 'cuda' ? { name: 'cuda', deviceId } : webgpu;
  return {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    ...(threads ? { intraOpNumThreads: threads } : {}),
  };
}

/** A start-up error that says which provider failed, why, and what to install. */
export function describeProviderFailure(device: Device, err: unknown): ExecutionProviderError {
  const why = (err as Error)?.message ?? String(err);
  const hint =
    device === 'cuda'
      ? ' — CUDA needs the provider libraries of this onnxruntime release beside libonnxruntime.so.1 (`npm run gpu:cuda`), CUDA 13 and cuDNN 9 on the library path, and a visible GPU; `tessera check-device --device cuda` names what is missing (docs/gpu.md)'
      : device === 'webgpu' && /adapter/i.test(why)
        ? " — WebGPU found no GPU adapter: on Linux it needs the Vulkan loader (libvulkan.so.1) and a Vulkan driver (the NVIDIA driver's ICD, or Mesa) (docs/gpu.md)"
        : '';
  return new ExecutionProviderError(`execution provider "${device}" could not be used: ${why.trim()}${hint}`);
}
