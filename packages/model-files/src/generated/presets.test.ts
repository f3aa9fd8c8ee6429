// @module Tests of presets, overrides and config.json (parsed back with the package's own config reader).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHfConfig } from '../hf-config.ts';
import { GENERATED_PRESET_NAMES, generatedModelConfig, hfConfigJson, resolveGeneratedSpec } from './presets.ts';

const META = { preset: 'tiny', seed: 1, formatVersion: 1, bosTokenId: 0, eosTokenId: 2 };

test('presets have the documented shapes', () => {
  const tiny = resolveGeneratedSpec();
  assert.deepEqual(
    [tiny.hiddenSize, tiny.numLayers, tiny.numHeads, tiny.numKvHeads, tiny.headDim, tiny.intermediateSize, tiny.vocabSize],
    [128, 4, 4, 2, 32, 384, 2048],
  );
  const big = resolveGeneratedSpec('50m');
  assert.deepEqual([big.hiddenSize, big.numLayers, big.numHeads, big.numKvHeads, big.vocabSize, big.maxPositionEmbeddings], [512, 8, 8, 4, 32000, 4096]);
  const tp4 = resolveGeneratedSpec('tp4');
  assert.equal(tp4.numHeads % 4, 0);
  assert.equal(tp4.numKvHeads % 4, 0);
});

test('config.json of every preset parses back to the same ModelConfig', () => {
  for (const preset of GENERATED_PRESET_NAMES) {
    const spec = resolveGeneratedSpec(preset);
    const json = hfConfigJson(spec, { ...META, preset });
    assert.equal(json['tessera_generated'], true);
    assert.match(String(json['_comment']), /untrained/i);
    assert.deepEqual(parseHfConfig(json), generatedModelConfig(spec));
  }
});

test('overrides: head dim follows hidden size, attentionBias makes Qwen2, rope scaling and tying survive', () => {
  const spec = resolveGeneratedSpec('tiny', {
    hiddenSize: 256,
    numLayers: 1,
    attentionBias: true,
    tieWordEmbeddings: true,
    ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 1024 },
    numKvHeads: undefined,
  });
  assert.equal(spec.headDim, 64);
  assert.equal(spec.numKvHeads, 2, 'undefined overrides keep the preset value');
  const json = hfConfigJson(spec, META);
  assert.deepEqual(json['architectures'], ['Qwen2ForCausalLM']);
  const parsed = parseHfConfig(json);
  assert.deepEqual(parsed, generatedModelConfig(spec));
  assert.equal(parsed.attentionBias, true);
  assert.equal(parsed.tieWordEmbeddings, true);

  const linear = resolveGeneratedSpec('tp4', { ropeScaling: { type: 'linear', factor: 2 } });
  assert.deepEqual(parseHfConfig(hfConfigJson(linear, META)).ropeScaling, { type: 'linear', factor: 2 });
});

test('invalid presets and overrides fail naming the field', () => {
  assert.throws(() => resolveGeneratedSpec('huge'), /unknown generated-model preset "huge" \(known: tiny, 50m, 1b, tp4\)/);
  assert.throws(() => resolveGeneratedSpec('tiny', { numKvHeads: 3 }), /numKvHeads \(3\) must divide numHeads \(4\)/);
  assert.throws(() => resolveGeneratedSpec('tiny', { numLayers: 0 }), /numLayers must be a positive integer/);
  assert.throws(() => resolveGeneratedSpec('tiny', { hiddenSize: 130 }), /headDim must be a positive integer \(got 32.5\)/);
  assert.throws(() => resolveGeneratedSpec('tiny', { hiddenSize: 100 }), /headDim must be even/);
  assert.throws(() => resolveGeneratedSpec('tiny', { vocabSize: 100 }), /vocabSize must be at least 259/);
  assert.throws(() => resolveGeneratedSpec('tiny', { headDim: 16, attentionBias: true }), /headDim must equal hiddenSize/);
});
