// @module HF directory → GGUF: the converted file loads back to the same config, tensors (Q/K permuted there and back) and tokenizer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeGeneratedModel } from './generated/generate.ts';
import { openGguf } from './gguf.ts';
import { writeModelAsGguf } from './hf-to-gguf.ts';
import { loadModel } from './load-model.ts';
import { tempDir } from './tiny-model.test-helper.ts';

test('a generated HF model written as F32 GGUF loads back identical: config, every tensor, vocabulary, merges, special ids, chat template', async (t) => {
  const dir = tempDir(t);
  const hf = await loadModel(await writeGeneratedModel(path.join(dir, 'hf'), { preset: 'tiny', seed: 3 }));
  const file = path.join(dir, 'model.gguf');
  const types = writeModelAsGguf(hf, file, 'F32');
  assert.ok(Object.values(types).every((type) => type === 'F32'));
  // llama.cpp refuses pre-tokenizer names it does not know ('gpt2' is not one; 'gpt-2' is).
  assert.equal(openGguf(file).metadata.get('tokenizer.ggml.pre'), 'gpt-2');
  const gguf = await loadModel(file);
  assert.deepEqual({ ...gguf.config }, { ...hf.config });
  for (const name of hf.tensorNames()) assert.deepEqual(gguf.tensor(name).data, hf.tensor(name).data, name);
  const model = (m: typeof hf) => m.tokenizer.tokenizerJson['model'] as { vocab: Record<string, number>; merges: unknown[] };
  assert.deepEqual(model(gguf).vocab, model(hf).vocab);
  assert.deepEqual(
    model(gguf).merges.map((m) => (Array.isArray(m) ? m.join(' ') : m)),
    model(hf).merges.map((m) => (Array.isArray(m) ? m.join(' ') : m)),
  );
  assert.equal(gguf.bosTokenId, hf.bosTokenId);
  assert.deepEqual(gguf.eosTokenIds, hf.eosTokenIds.slice(0, 1));
  assert.equal(gguf.tokenizer.chatTemplate, hf.tokenizer.chatTemplate);
});

test('written quantized: matrices in block types (K-quants where rows allow, 32-blocks otherwise), norms float', async (t) => {
  const dir = tempDir(t);
  const hf = await loadModel(
    await writeGeneratedModel(path.join(dir, 'hf'), {
      preset: 'tiny',
      seed: 3,
      overrides: { hiddenSize: 256, intermediateSize: 512, numHeads: 4, numKvHeads: 2 },
    }),
  );
  const file = path.join(dir, 'model.gguf');
  writeModelAsGguf(hf, file, 'Q4_K_M');
  const types = new Map([...openGguf(file).tensors.values()].map((i) => [i.name, i.typeName]));
  assert.equal(types.get('blk.0.attn_q.weight'), 'Q4_K');
  assert.equal(types.get('blk.0.ffn_down.weight'), 'Q6_K');
  assert.equal(types.get('blk.0.attn_norm.weight'), 'F32');
  const gguf = await loadModel(file);
  assert.ok(gguf.quantized?.('model.layers.0.self_attn.q_proj.weight'));
});
