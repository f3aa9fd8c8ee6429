import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from './load-model.ts';
import { tempDir, tinyConfig, writeTinyGguf, writeTinyHfDir } from './tiny-model.test-helper.ts';
import { ModelLoadError, type ModelConfig } from './types.ts';

const STORIES = fileURLToPath(new URL('../../../../shared/models/stories260K/', import.meta.url));

test('detects an HF directory, its config.json, and a GGUF file by magic', async (t) => {
  const dir = tempDir(t);
  const hfDir = path.join(dir, 'hf');
  fs.mkdirSync(hfDir);
  writeTinyHfDir(hfDir, tinyConfig());
  const ggufFile = path.join(dir, 'model.bin');
  writeTinyGguf(ggufFile, tinyConfig());
  assert.equal((await loadModel(hfDir)).format, 'hf');
  assert.equal((await loadModel(path.join(hfDir, 'config.json'))).path, hfDir);
  const gguf = await loadModel(ggufFile);
  assert.equal(gguf.format, 'gguf');
  assert.equal(gguf.path, ggufFile);
  await assert.rejects(loadModel(path.join(dir, 'nope')), (e: unknown) => e instanceof ModelLoadError && /nope: does not exist/.test(e.message));
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'hello');
  await assert.rejects(
    loadModel(path.join(dir, 'notes.txt')),
    (e: unknown) => e instanceof ModelLoadError && e.message === 'notes.txt: is neither a model directory nor a GGUF file',
  );
});

test('stories260K: the GGUF and the HF directory load to the same config and bit-identical tensors', async (t) => {
  if (!fs.existsSync(STORIES)) return t.skip('stories260K comparison: ../shared not present');
  const hf = await loadModel(path.join(STORIES, 'hf'));
  const gguf = await loadModel(path.join(STORIES, 'stories260K.gguf'));
  const expected: ModelConfig = {
    architecture: 'LlamaForCausalLM',
    hiddenSize: 64,
    intermediateSize: 172,
    numLayers: 5,
    numHeads: 8,
    numKvHeads: 4,
    headDim: 8,
    vocabSize: 512,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    ropeScaling: null,
    maxPositionEmbeddings: 2048,
    tieWordEmbeddings: false,
    attentionBias: false,
    slidingWindow: null,
  };
  assert.deepEqual(hf.config, expected);
  assert.deepEqual(gguf.config, expected);
  assert.equal(gguf.tensorNames().length, 48);
  assert.deepEqual(gguf.tensorNames(), hf.tensorNames());
  for (const name of gguf.tensorNames()) {
    const a = gguf.tensor(name);
    const b = hf.tensor(name);
    assert.deepEqual(a.shape, b.shape, name);
    let maxDiff = 0;
    for (let i = 0; i < a.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.data[i]! - b.data[i]!));
    assert.equal(maxDiff, 0, `${name} max abs diff`);
  }
  for (const model of [hf, gguf]) {
    assert.equal(model.bosTokenId, 1);
    assert.deepEqual(model.eosTokenIds, [2]);
  }
  assert.equal(typeof hf.tokenizer.chatTemplate, 'string');
  assert.equal(gguf.tokenizer.chatTemplate, null);
  assert.deepEqual(hf.generation, { bosTokenId: 1, eosTokenIds: [2], doSample: false });
  assert.match(hf.digest, /^[0-9a-f]{64}$/);
  assert.notEqual(hf.digest, gguf.digest);
  assert.equal((await loadModel(path.join(STORIES, 'hf'))).digest, hf.digest, 'digest is stable');
});
