// @module `--quantize MODE` (TGI's flag): int8/int4 round-to-nearest at load for float checkpoints, or a check that the checkpoint is GPTQ/AWQ.

import { createHash } from 'node:crypto';
import { type BlockAffine, expandBlockAffine } from './block-affine.ts';
import { expectedTensorShapes } from './canonical-tensors.ts';
import { quantizeRtn } from './rtn-quantize.ts';
import { ModelLoadError, type FloatTensor, type LoadedModel } from './types.ts';

export const QUANTIZE_MODES = ['int8', 'int4', 'gptq', 'awq'] as const;
export type QuantizeMode = (typeof QUANTIZE_MODES)[number];

/** Columns per RTN block: llama.cpp's Q8_0/Q4_0 block, and a size MatMulNBits' fast kernels take. */
export const RTN_BLOCK_SIZE = 32;

/** The matrices --quantize int8|int4 quantizes. Embeddings and lm_head stay float (see docs/quantization.md). */
const RTN_TARGETS = /^model\.layers\.\d+\.(self_attn\.(q|k|v|o)_proj|mlp\.(gate|up|down)_proj)\.weight$/;
const FLOAT_TYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/** Checks a --quantize value; the message names the flag and the accepted modes. */
export function parseQuantizeMode(raw: string): QuantizeMode {
  if ((QUANTIZE_MODES as readonly string[]).includes(raw)) return raw as QuantizeMode;
  throw new Error(`--quantize must be one of ${QUANTIZE_MODES.join(', ')}, got "${raw}"`);
}

/** Where a load-time note goes (a pino logger fits). */
export interface QuantizationLog {
  info(fields: object, message: string): void;
}

/** The storage type of the model's Linear weights, by its first q_proj ("F16", "Q4_K", "GPTQ-4bit"…; F32 when unknown). */
function linearStorageType(model: LoadedModel): string {
  return model.tensorType?.('model.layers.0.self_attn.q_proj.weight') ?? 'F32';
}

/**
 * Applies `--quantize`. int8/int4 on a float checkpoint: `quantized(name)` returns the round-to-nearest
 * BlockAffine (source "RTN", block 32) of every q/k/v/o/gate/up/down weight whose row divides into blocks,
 * `tensor(name)` its float expansion (the values the graph runs, so references agree with it), and the
 * digest changes so no float graph is reused from the cache. A checkpoint already quantized (GGUF blocks,
 * GPTQ/AWQ) keeps its own quantization, logged. gptq/awq: only checks the checkpoint is quantized that way.
 */
export function withLoadTimeQuantization(model: LoadedModel, mode: QuantizeMode | null, log?: QuantizationLog): LoadedModel {
  if (mode === null) return model;
  const stored = linearStorageType(model);
  if (mode === 'gptq' || mode === 'awq') {
    if (!stored.toLowerCase().startsWith(mode)) {
      throw new ModelLoadError(
        model.path,
        `--quantize ${mode} needs a checkpoint quantized with ${mode.toUpperCase()}, but its Linear weights are ${stored}; for a float checkpoint use --quantize int8 or int4`,
      );
    }
    return model;
  }
  if (!FLOAT_TYPES.has(stored)) {
    log?.info({ quantize: mode, stored }, `--quantize ${mode}: the checkpoint is already quantized (${stored}); its own quantization is used`);
    return model;
  }

  const bits = mode === 'int8' ? 8 : 4;
  const shapes = expectedTensorShapes(model.config);
  const isTarget = (name: string) => RTN_TARGETS.test(name) && (shapes.get(name)?.[1] ?? 0) % RTN_BLOCK_SIZE === 0;
  const skipped = [...shapes.keys()].filter((n) => RTN_TARGETS.test(n) && !isTarget(n));
  if (skipped.length > 0)
    log?.info(
      { quantize: mode, kept: skipped.length },
      `--quantize ${mode}: ${skipped.length} matrices whose rows are not a multiple of ${RTN_BLOCK_SIZE} stay float (e.g. ${skipped[0]})`,
    );

  // Quantized on every call and not kept: the graph builder reads each matrix once, and holding them would double the footprint.
  const quantized = (name: string): BlockAffine | null => {
    if (!isTarget(name)) return model.quantized?.(name) ?? null;
    const [rows, cols] = shapes.get(name)! as [number, number];
    return quantizeRtn(model.tensor(name).data, rows, cols, bits, RTN_BLOCK_SIZE);
  };
  return {
    ...model,
    digest: createHash('sha256').update(`${model.digest}:rtn-${mode}-block${RTN_BLOCK_SIZE}-v1`).digest('hex'),
    tensorNames: () => model.tensorNames(),
    tensor(name: string): FloatTensor {
      if (!isTarget(name)) return model.tensor(name);
      const q = quantized(name)!;
      return { shape: [q.rows, q.cols], data: expandBlockAffine(q) };
    },
    quantized,
    tensorType: (name) => (isTarget(name) ? `RTN-${mode}` : (model.tensorType?.(name) ?? 'F32')),
  };
}
