import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { GgmlType } from './gguf.ts';
import { loadGgufModel } from './gguf-model.ts';
import { gv } from './gguf-writer.test-helper.ts';
import { llama3FreqFactors, llama3ScalingFromFreqFactors } from './gguf-rope.ts';
import { f32Bytes } from './safetensors-writer.test-helper.ts';
import { tempDir, tinyConfig, writeTinyGguf } from './tiny-model.test-helper.ts';
import { ModelLoadError, type RopeScaling } from './types.ts';

test('llama3 parameters are recovered from the float32 divisors llama.cpp stores', () => {
  const cases: [RopeScaling & { type: 'llama3' }, number, number][] = [
    [{ type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 }, 128, 500000],
    [{ type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 }, 64, 500000],
    [{ type: 'llama3', factor: 4, lowFreqFactor: 2, highFreqFactor: 8, originalMaxPositionEmbeddings: 4096 }, 128, 10000],
  ];
  for (const [scaling, headDim, theta] of cases) {
    const divisors = Float32Array.from(llama3FreqFactors(scaling, headDim, theta));
    assert.deepEqual(llama3ScalingFromFreqFactors('m.gguf', divisors, headDim, theta, scaling.originalMaxPositionEmbeddings), scaling);
  }
  assert.equal(llama3ScalingFromFreqFactors('m.gguf', new Float32Array(64).fill(1), 128, 500000, 8192), null);
  assert.throws(
    () =>
      llama3ScalingFromFreqFactors(
        'm.gguf',
        Float32Array.from({ length: 64 }, (_, i) => 1 + (i % 3)),
        128,
        500000,
        8192,
      ),
    (e: unknown) => e instanceof ModelLoadError && /m\.gguf: tensor "rope_freqs\.weight" does not match llama3 rope scaling/.test(e.message),
  );
});

test('a GGUF with rope_freqs.weight loads with llama3 rope scaling', async (t) => {
  const file = path.join(tempDir(t), 'l3.gguf');
  const scaling = { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 } as const;
  const divisors = llama3FreqFactors(scaling, 4, 10000);
  assert.deepEqual([...divisors], [1, 8], 'one high- and one low-frequency pair');
  writeTinyGguf(file, tinyConfig(), {
    extraMetadata: [['llama.rope.scaling.original_context_length', gv.u32(64)]],
    extraTensors: [{ name: 'rope_freqs.weight', ne: [2], type: GgmlType.F32, bytes: f32Bytes(divisors) }],
  });
  const model = await loadGgufModel(file);
  assert.deepEqual(model.config.ropeScaling, scaling);
  assert.ok(!model.tensorNames().some((n) => n.includes('rope')));
});
