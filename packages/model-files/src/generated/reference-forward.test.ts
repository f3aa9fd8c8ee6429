// @module Tests of the plain-JS reference forward: against llama.cpp on stories260K, and on the generated model.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import { parseHfConfig } from '../hf-config.ts';
import { openSafetensors } from '../safetensors.ts';
import { generatedModelConfig, resolveGeneratedSpec } from './presets.ts';
import { referenceGreedy, referenceLogits, ropeInverseFrequencies } from './reference-forward.ts';
import { tokenizerConfigJson } from './tokenizer-config.ts';
import { buildGeneratedTokenizer } from './tokenizer-json.ts';
import { generatedTensorSource } from './weights.ts';

const sharedDir = new URL('../../../../../shared/', import.meta.url);
const storiesDir = new URL('models/stories260K/hf/', sharedDir);
const fixtureFile = new URL('fixtures/stories260K-greedy.json', sharedDir);

test('reference forward reproduces llama.cpp greedy output on stories260K', (t) => {
  if (!fs.existsSync(storiesDir) || !fs.existsSync(fixtureFile)) {
    t.skip('stories260K: ../shared not present');
    return;
  }
  const fixture = JSON.parse(fs.readFileSync(fixtureFile, 'utf8')) as { prompt_ids_with_bos: number[]; greedy_ids: number[] };
  const config = parseHfConfig(JSON.parse(fs.readFileSync(new URL('config.json', storiesDir), 'utf8')));
  const reader = openSafetensors(fileURLToPath(storiesDir));
  const steps = 12; // full recompute per step: keep it short
  const greedy = referenceGreedy(config, (name) => reader.read(name), fixture.prompt_ids_with_bos, steps);
  assert.deepEqual(greedy, fixture.greedy_ids.slice(0, steps));
});

test('rope scaling: linear divides every frequency; llama3 keeps high and divides low frequencies', () => {
  const base = generatedModelConfig(resolveGeneratedSpec('tiny'));
  const plain = ropeInverseFrequencies(base);
  const linear = ropeInverseFrequencies({ ...base, ropeScaling: { type: 'linear', factor: 4 } });
  plain.forEach((f, i) => assert.ok(Math.abs(linear[i] - f / 4) < 1e-15));
  const llama3 = ropeInverseFrequencies({
    ...base,
    ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 },
  });
  assert.equal(llama3[0], plain[0]);
  assert.ok(Math.abs(llama3.at(-1)! - plain.at(-1)! / 8) < 1e-15);
});

test('generated tiny model: causal, finite, and its greedy choice depends on the prompt', () => {
  const spec = resolveGeneratedSpec('tiny');
  const config = generatedModelConfig(spec);
  const tensor = generatedTensorSource(spec, 42);
  const tokenizer = new Tokenizer(buildGeneratedTokenizer(spec.vocabSize).tokenizerJson, tokenizerConfigJson(2048));

  const prompts = ['Once upon a time', 'The cat sat on the', 'Hello, how are you?', 'def add(a, b):', 'She went to the park'];
  const choices = prompts.map((prompt) => {
    const logits = referenceLogits(config, tensor, tokenizer.encode(prompt).ids).at(-1)!;
    assert.ok(logits.every(Number.isFinite));
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    return best;
  });
  assert.ok(new Set(choices).size >= 3, `argmax barely varies across prompts: ${choices}`);

  const ids = tokenizer.encode('Once upon a time, there was').ids;
  const all = referenceLogits(config, tensor, ids);
  const prefix = referenceLogits(config, tensor, ids.slice(0, 3));
  prefix.forEach((row, r) => row.forEach((value, i) => assert.ok(Math.abs(value - all[r][i]) < 1e-9)));
});
