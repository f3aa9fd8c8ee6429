// @module Tests of writing and caching generated model directories (byte-identical, atomic, race-safe).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { expectedTensorShapes } from '../canonical-tensors.ts';
import { parseHfConfig } from '../hf-config.ts';
import { openSafetensors } from '../safetensors.ts';
import { ensureGeneratedModel, GENERATED_FORMAT_VERSION, GENERATED_MODEL_FILES, generatedModelDir, writeGeneratedModel } from './generate.ts';
import { generatedModelConfig, resolveGeneratedSpec } from './presets.ts';
import { generatedTensorSource } from './weights.ts';

const readJson = (dir: string, file: string) => JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown>;

function withTempDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-gen-'));
    try {
      await fn(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  'the written directory is a complete HF model: config, weights, tokenizer all agree',
  withTempDir(async (root) => {
    const progress: string[] = [];
    const dir = await writeGeneratedModel(path.join(root, 'tiny'), { onProgress: (m) => progress.push(m) });
    assert.deepEqual(fs.readdirSync(dir).sort(), [...GENERATED_MODEL_FILES].sort());
    assert.ok(
      progress.some((m) => /untrained test model/.test(m)),
      progress.join('\n'),
    );

    const configJson = readJson(dir, 'config.json');
    assert.equal(configJson['tessera_generated'], true);
    const spec = resolveGeneratedSpec('tiny');
    const config = parseHfConfig(configJson);
    assert.deepEqual(config, generatedModelConfig(spec));

    const reader = openSafetensors(dir);
    const expected = expectedTensorShapes(config);
    assert.deepEqual(reader.names().sort(), [...expected.keys()].sort());
    const source = generatedTensorSource(spec, 42);
    for (const name of ['model.embed_tokens.weight', 'model.layers.3.mlp.down_proj.weight', 'model.norm.weight']) {
      assert.deepEqual(reader.info(name).shape, expected.get(name));
      assert.deepEqual(reader.read(name).data, source(name).data);
    }

    const tokenizer = new Tokenizer(readJson(dir, 'tokenizer.json'), readJson(dir, 'tokenizer_config.json'));
    assert.equal(tokenizer.get_vocab().size, config.vocabSize);
    assert.equal(tokenizer.decode(tokenizer.encode('Hello, wörld 🙂').ids), 'Hello, wörld 🙂');
    assert.deepEqual(readJson(dir, 'generation_config.json')['eos_token_id'], [2, 0]);
    assert.match(fs.readFileSync(path.join(dir, 'README.md'), 'utf8'), /not a trained language model/);
  }),
);

test(
  'same seed → byte-identical files; another seed → other weights, same tokenizer; rewriting replaces',
  withTempDir(async (root) => {
    const a = await writeGeneratedModel(path.join(root, 'a'), { preset: 'tp4', seed: 7 });
    const b = await writeGeneratedModel(path.join(root, 'b'), { preset: 'tp4', seed: 7 });
    const c = await writeGeneratedModel(path.join(root, 'c'), { preset: 'tp4', seed: 8 });
    const bytes = (dir: string, file: string) => fs.readFileSync(path.join(dir, file));
    for (const file of GENERATED_MODEL_FILES) assert.ok(bytes(a, file).equals(bytes(b, file)), `${file} differs`);
    assert.ok(!bytes(a, 'model.safetensors').equals(bytes(c, 'model.safetensors')));
    assert.ok(bytes(a, 'tokenizer.json').equals(bytes(c, 'tokenizer.json')));

    fs.writeFileSync(path.join(a, 'stale.txt'), 'left from before');
    await writeGeneratedModel(a, { preset: 'tp4', seed: 8 });
    assert.ok(!fs.existsSync(path.join(a, 'stale.txt')));
    assert.ok(bytes(a, 'model.safetensors').equals(bytes(c, 'model.safetensors')));
    assert.deepEqual(fs.readdirSync(root).sort(), ['a', 'b', 'c'], 'no temp or aside directories left');
  }),
);

test(
  'overrides reach the files: Qwen2 with biases and tied embeddings',
  withTempDir(async (root) => {
    const dir = await writeGeneratedModel(path.join(root, 'q'), { preset: 'tp4', overrides: { attentionBias: true, tieWordEmbeddings: true, numLayers: 1 } });
    const config = parseHfConfig(readJson(dir, 'config.json'));
    assert.equal(config.architecture, 'Qwen2ForCausalLM');
    const names = openSafetensors(dir).names();
    assert.ok(names.includes('model.layers.0.self_attn.k_proj.bias'));
    assert.ok(!names.includes('lm_head.weight'));
    assert.ok(!names.includes('model.layers.1.mlp.up_proj.weight'));
  }),
);

test(
  'ensureGeneratedModel builds once, then reuses; concurrent calls agree and leave no temp dirs',
  withTempDir(async (cacheRoot) => {
    const [first, second] = await Promise.all([ensureGeneratedModel(cacheRoot, 'tp4'), ensureGeneratedModel(cacheRoot, 'tp4')]);
    assert.equal(first, second);
    assert.equal(first, generatedModelDir(cacheRoot, 'tp4'));
    assert.equal(path.basename(first), `generated-tp4-v${GENERATED_FORMAT_VERSION}`);
    assert.deepEqual(fs.readdirSync(path.dirname(first)), [`generated-tp4-v${GENERATED_FORMAT_VERSION}`]);

    const inode = fs.statSync(path.join(first, 'model.safetensors')).ino;
    const progress: string[] = [];
    assert.equal(await ensureGeneratedModel(cacheRoot, 'tp4', { onProgress: (m) => progress.push(m) }), first);
    assert.equal(fs.statSync(path.join(first, 'model.safetensors')).ino, inode, 'reused, not rebuilt');
    assert.match(progress.join('\n'), /using cached generated model "tp4"/);

    // An incomplete directory (e.g. a file deleted by hand) is rebuilt.
    fs.rmSync(path.join(first, 'tokenizer.json'));
    await ensureGeneratedModel(cacheRoot, 'tp4');
    assert.ok(fs.existsSync(path.join(first, 'tokenizer.json')));
    await assert.rejects(ensureGeneratedModel(cacheRoot, 'nope'), /unknown generated-model preset "nope"/);
  }),
);
