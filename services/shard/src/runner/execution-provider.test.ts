// @module Provider selection: explicit lists, what is missing named before loading, and start-up errors that say what to install.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomLlamaModel } from '@tessera/testing';
import { ensureStepGraph } from '../graph/graph-cache.ts';
import { ExecutionProviderError } from '../errors.ts';
import { CUDA_PROVIDER_LIBRARIES, describeProviderFailure, missingForDevice, ortLibraryDir, sessionOptionsFor } from './execution-provider.ts';
import { ModelRunner } from './model-runner.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-ep-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('only the asked provider is listed: no CPU behind cuda or webgpu', () => {
  assert.deepEqual(sessionOptionsFor('cpu', 0).executionProviders, ['cpu']);
  assert.deepEqual(sessionOptionsFor('cuda', 2).executionProviders, [{ name: 'cuda', deviceId: 2 }]);
  assert.deepEqual(sessionOptionsFor('webgpu', 0).executionProviders, [{ name: 'webgpu' }]);
  assert.equal(sessionOptionsFor('cpu', 0, 3).intraOpNumThreads, 3);
  assert.throws(() => sessionOptionsFor('webgpu', 1), /--device-id must be 0 with --device webgpu/);
});

test('the CUDA provider libraries are looked for beside libonnxruntime.so.1, by name, with the command that installs them', () => {
  assert.equal(missingForDevice('cpu'), null);
  const empty = path.join(tmp, 'empty');
  fs.mkdirSync(empty);
  const problem = missingForDevice('cuda', empty);
  for (const f of CUDA_PROVIDER_LIBRARIES) assert.ok(problem?.includes(f), problem ?? '');
  assert.match(problem!, /npm run gpu:cuda.*docs\/gpu\.md/);
  assert.ok(fs.existsSync(path.join(ortLibraryDir(), 'libonnxruntime.so.1')), `ortLibraryDir() is where onnxruntime lives: ${ortLibraryDir()}`);
});

test('provider failures name the provider and what it needs', () => {
  const cuda = describeProviderFailure('cuda', new Error('Failed to load shared library'));
  assert.ok(cuda instanceof ExecutionProviderError);
  assert.match(
    cuda.message,
    /execution provider "cuda" could not be used: Failed to load shared library — CUDA needs .*npm run gpu:cuda.*CUDA 13 and cuDNN 9.*check-device/,
  );
  assert.match(
    describeProviderFailure('webgpu', new Error('Failed to get a WebGPU adapter: No supported adapters')).message,
    /Vulkan loader \(libvulkan\.so\.1\)/,
  );
});

test('a runner on --device cuda without the provider libraries fails at creation, naming them', async (t) => {
  if (missingForDevice('cuda') === null) return t.skip('the CUDA provider libraries are installed here');
  const model = randomLlamaModel();
  const graph = ensureStepGraph(model, { cacheDir: tmp, rank: 0, worldSize: 1, graph: { dtype: 'float16', kvLayout: 'host' } });
  await assert.rejects(ModelRunner.create(graph.onnxPath, model.config, { blockSize: 4, device: 'cuda' }), (err: Error) => {
    assert.ok(err instanceof ExecutionProviderError);
    assert.match(err.message, /"cuda" could not be used: .*(libonnxruntime_providers_cuda\.so|not on the library path)/);
    return true;
  });
});
