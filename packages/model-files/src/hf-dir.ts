// @module Loads a Hugging Face model directory (config.json, safetensors, tokenizer files) into a LoadedModel.

import { checkTensorShapes } from './canonical-tensors.ts';
import { modelDigest } from './digest.ts';
import { parseHfConfig } from './hf-config.ts';
import { parseGenerationConfig, resolveSpecialIds } from './hf-generation.ts';
import { readHfTokenizerFiles } from './hf-tokenizer-files.ts';
import { readJsonObject, readTextFile } from './json-file.ts';
import { openSafetensors } from './safetensors.ts';
import { ModelLoadError, type FloatTensor, type LoadedModel } from './types.ts';
import path from 'node:path';

/** Loads `dir`; every missing or unsupported file, field or tensor throws ModelLoadError. */
export async function loadHfDir(dir: string): Promise<LoadedModel> {
  const configText = readTextFile(dir, 'config.json', true)!;
  const configJson = readJsonObject(dir, 'config.json', true);
  const config = parseHfConfig(configJson);
  const weights = openSafetensors(dir);
  const weightLabel = path.basename(weights.files[0]!);

  // Tied embeddings: lm_head.weight may be absent when config.json says so or does not say.
  if (!weights.has('lm_head.weight') && !config.tieWordEmbeddings) {
    if (configJson['tie_word_embeddings'] === false) {
      throw new ModelLoadError(weightLabel, 'tensor "lm_head.weight" is missing and config.json says tie_word_embeddings: false');
    }
    config.tieWordEmbeddings = true;
  }

  const fileOf = (name: string): string => (weights.has(name) ? path.basename(weights.info(name).file) : weightLabel);
  const names = checkTensorShapes(
    weightLabel,
    config,
    (name) => (weights.has(name) ? weights.info(name).shape : undefined),
  );
  const known = new Set(names);

  const tokenizer = readHfTokenizerFiles(dir);
  const generation = parseGenerationConfig(readJsonObject(dir, 'generation_config.json') ?? {});
  const { bosTokenId, eosTokenIds } = resolveSpecialIds(generation, configJson, tokenizer);

  return {
    path: dir,
    format: 'hf',
    config,
    digest: modelDigest('hf', weights.files, [configText]),
    tensorNames: () => [...names],
    tensor(name: string): FloatTensor {
      if (!known.has(name)) throw new ModelLoadError(fileOf(name), `tensor "${name}" is not a tensor of this model`);
      return weights.read(name);
    },
    tokenizer,
    generation,
    bosTokenId,
    eosTokenIds,
  };
}
