// @module Public API of the generated (untrained, deterministic) default model.

export {
  DEFAULT_GENERATED_SEED,
  GENERATED_FORMAT_VERSION,
  GENERATED_MODEL_FILES,
  ensureGeneratedModel,
  generatedModelDir,
  isCompleteGeneratedDir,
  writeGeneratedModel,
  type WriteGeneratedModelOptions,
} from './generate.ts';
export {
  GENERATED_PRESETS,
  GENERATED_PRESET_NAMES,
  generatedModelConfig,
  isGeneratedPresetName,
  resolveGeneratedSpec,
  type GeneratedModelOverrides,
  type GeneratedModelSpec,
  type GeneratedPresetName,
} from './presets.ts';
export { GENERATED_SPECIAL_TOKENS, buildGeneratedTokenizer, type GeneratedTokenizer } from './tokenizer-json.ts';
export { CHATML_TEMPLATE } from './tokenizer-config.ts';
export { trainByteLevelBpe, type TrainedBpe } from './bpe-trainer.ts';
export { generatedParameterCount, generatedTensorSource } from './weights.ts';
