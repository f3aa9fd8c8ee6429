// @module @tessera/model-files: load HF directories and GGUF files into one normalised LoadedModel.

export * from './types.ts';
export * from './block-affine.ts';
export { loadModel } from './load-model.ts';
export { loadHfDir } from './hf-dir.ts';
export { loadGgufModel, hfNameForGguf, ggufNameForHf, qkPermuteHeads } from './gguf-model.ts';
export { parseHfConfig, parseRopeScaling, SUPPORTED_ARCHITECTURES } from './hf-config.ts';
export { describeFamily, FAMILIES, SUPPORTED_GGUF_ARCHITECTURES } from './families/families.ts';
export { SUPPORTED_GGUF_PRE_TOKENIZERS } from './gguf-pre-tokenizers.ts';
export { ggufModelConfig, float32Decimal } from './gguf-config.ts';
export { openSafetensors, safetensorsFromFiles, readSafetensorsHeader, type SafetensorsReader, type SafetensorsTensorInfo } from './safetensors.ts';
export {
  openGguf,
  readGgufTensor,
  readGgufBlockAffine,
  isQuantizedGgufTensor,
  GGML_TYPE_NAMES,
  GgmlType,
  SUPPORTED_GGML_TYPES,
  type GgufFile,
  type GgufTensorInfo,
  type GgufValue,
} from './gguf.ts';
export { dequantizeGgml } from './ggml-dequantize.ts';
export { ggmlToBlockAffine } from './ggml-block-affine.ts';
export { quantizeGgml } from './ggml-quantize.ts';
export { writeModelAsGguf } from './hf-to-gguf.ts';
export { quantizeGgufFile, quantTypeFor, GGUF_QUANT_PRESETS, type GgufQuantPreset } from './gguf-quantize-file.ts';
export { ggufTokenizer, sentencePieceMerges, type GgufTokenizer } from './gguf-tokenizer.ts';
export { llama3FreqFactors } from './gguf-rope.ts';
export { expectedTensorShapes } from './canonical-tensors.ts';
export { permuteQk, unpermuteQk } from './qk-permute.ts';
export { f16BitsToF32, f16ToF32Array, bf16ToF32Array, f32ToF16Bits, f32ToF16Array } from './float16.ts';
export { modelDigest } from './digest.ts';
export * from './generated/index.ts';
export { createProgress, renderBar, type Progress, type ProgressOptions, type ProgressLogger } from './progress.ts';
export { summarizeWeights, type WeightSummary } from './weight-summary.ts';
export { quantizeRtn } from './rtn-quantize.ts';
export {
  withLoadTimeQuantization,
  parseQuantizeMode,
  QUANTIZE_MODES,
  RTN_BLOCK_SIZE,
  type QuantizeMode,
  type QuantizationLog,
} from './load-time-quantization.ts';
export { parseHfQuantization, SUPPORTED_QUANT_METHODS, type HfQuantization } from './hf-quantization-config.ts';
export { hubCacheDir, ModelNotFoundError, repoIdOfSnapshotPath, resolveModelArg, type ResolvedModel } from './hf-cache.ts';
export { isSparseLayer, moeTensorNames, moeTensorShapes, MOE_ARCHITECTURES } from './moe-config.ts';
