// @module Loads a Hugging Face model directory (config.json, safetensors, tokenizer files) into a LoadedModel; GPTQ/AWQ Linear layers stay quantized.

import { expandBlockAffine } from './block-affine.ts';
import { FusedSplitter } from './fused-projections.ts';
import { checkTensorShapes } from './canonical-tensors.ts';
import { modelDigest } from './digest.ts';
import { parseHfConfig } from './hf-config.ts';
import { parseGenerationConfig, resolveSpecialIds } from './hf-generation.ts';
import { openPackedWeights } from './hf-packed-weights.ts';
import { parseHfQuantization } from './hf-quantization-config.ts';
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
  // Older AutoGPTQ exports keep their parameters in quantize_config.json instead of config.json.
  const legacyQuant = configJson['quantization_config'] === undefined ? readJsonObject(dir, 'quantize_config.json') : undefined;
  const quantization = parseHfQuantization(configJson, legacyQuant ?? null);
  const weights = openSafetensors(dir);
  // GPTQ/AWQ Linear layers have X.qweight/X.qzeros/X.scales where a float checkpoint has X.weight.
  const packed = openPackedWeights(weights, quantization);
  const isPacked = (name: string) => packed?.has(name) === true;
  const weightLabel = path.basename(weights.files[0]!);

  // Tied embeddings: lm_head.weight may be absent when config.json says so or does not say.
  if (!weights.has('lm_head.weight') && !config.tieWordEmbeddings) {
    if (configJson['tie_word_embeddings'] === false) {
      throw new ModelLoadError(weightLabel, 'tensor "lm_head.weight" is missing and config.json says tie_word_embeddings: false');
    }
    config.tieWordEmbeddings = true;
  }

  const fileOf = (name: string): string => (weights.has(name) ? path.basename(weights.info(name).file) : weightLabel);
  // Phi-3's qkv_proj / gate_up_proj are read as the canonical q/k/v and gate/up parts.
  const fused = new FusedSplitter(
    config,
    (name) => (weights.has(name) ? weights.info(name).shape : undefined),
    (name) => weights.read(name),
  );
  const names = checkTensorShapes(
    weightLabel,
    config,
    (name) => (fused.owns(name) ? fused.shape(name) : weights.has(name) ? weights.info(name).shape : isPacked(name) ? packed!.shape(name) : undefined),
    (name) => (fused.owns(name) ? fused.storedName(name) : name),
  );
  const known = new Set(names);

  const tokenizer = readHfTokenizerFiles(dir);
  const generation = parseGenerationConfig(readJsonObject(dir, 'generation_config.json') ?? {});
  const { bosTokenId, eosTokenIds } = resolveSpecialIds(generation, configJson, tokenizer);

  return {
    path: dir,
    format: 'hf',
    config,
    digest: modelDigest('hf', weights.files, [configText, ...(legacyQuant ? [JSON.stringify(legacyQuant)] : [])]),
    tensorNames: () => [...names],
    tensor(name: string): FloatTensor {
      if (!known.has(name)) throw new ModelLoadError(fileOf(name), `tensor "${name}" is not a tensor of this model`);
      if (fused.owns(name)) return fused.read(name);
      if (isPacked(name)) {
        const q = packed!.decode(name);
        return { shape: [q.rows, q.cols], data: expandBlockAffine(q) };
      }
      return weights.read(name);
    },
    quantized: (name) => (known.has(name) && isPacked(name) ? packed!.decode(name) : null),
    tensorType: (name) => (isPacked(name) ? packed!.quantization.label : weights.info(fused.owns(name) ? fused.storedName(name) : name).dtype),
    tokenizer,
    generation,
    bosTokenId,
    eosTokenIds,
  };
}
