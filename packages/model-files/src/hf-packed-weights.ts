// @module The GPTQ/AWQ Linear layers of a safetensors checkpoint: which canonical `X.weight` names they stand for, their shapes, and their BlockAffine form.

import path from 'node:path';
import type { BlockAffine } from './block-affine.ts';
import { decodePackedLinear, expectedPackedShapes, groupColumns, packedLinearDims } from './gptq-awq-decode.ts';
import type { HfQuantization } from './hf-quantization-config.ts';
import type { SafetensorsReader } from './safetensors.ts';
import { ModelLoadError } from './types.ts';

/** Packed Linear layers, addressed by the canonical name of the float weight they replace (`….q_proj.weight`). */
export interface PackedWeights {
  quantization: HfQuantization;
  /** Whether `name` (a canonical `X.weight`) is stored as X.qweight / X.qzeros / X.scales. */
  has(name: string): boolean;
  /** [out, in], HF Linear layout. */
  shape(name: string): number[];
  /** Decoded (read and unpacked on every call: nothing is kept). */
  decode(name: string): BlockAffine;
}

const PACKED_SUFFIX = '.qweight';

/** The packed layers of `weights`, or null when there are none and the config names no quantization. */
export function openPackedWeights(weights: SafetensorsReader, quantization: HfQuantization | null): PackedWeights | null {
  const prefixes = new Set(
    weights
      .names()
      .filter((n) => n.endsWith(PACKED_SUFFIX))
      .map((n) => n.slice(0, -PACKED_SUFFIX.length)),
  );
  const fileOf = (tensor: string) => path.basename(weights.has(tensor) ? weights.info(tensor).file : weights.files[0]!);
  if (!quantization) {
    const first = [...prefixes][0];
    if (first === undefined) return null;
    throw new ModelLoadError(
      fileOf(first + PACKED_SUFFIX),
      `tensor "${first}${PACKED_SUFFIX}" is packed (GPTQ/AWQ) but config.json has no quantization_config`,
    );
  }
  const q = quantization;

  /** Reads and checks the shapes of one layer's tensors. */
  const dims = (prefix: string) => {
    const qweight = weights.info(prefix + PACKED_SUFFIX);
    if (qweight.dtype !== 'I32' || qweight.shape.length !== 2) {
      throw new ModelLoadError(fileOf(qweight.name), `tensor "${qweight.name}" is ${qweight.dtype} [${qweight.shape}], expected a 2-D I32 ${q.label} tensor`);
    }
    const { inFeatures, outFeatures } = packedLinearDims(q, qweight.shape);
    const group = groupColumns(q, inFeatures);
    if (inFeatures % group !== 0) {
      throw new ModelLoadError(fileOf(qweight.name), `tensor "${qweight.name}": group size ${group} does not divide its ${inFeatures} input features`);
    }
    for (const [suffix, shape] of Object.entries(expectedPackedShapes(q, inFeatures / group, inFeatures, outFeatures))) {
      const name = `${prefix}.${suffix}`;
      if (suffix === 'g_idx' && !weights.has(name)) continue;
      if (!weights.has(name)) throw new ModelLoadError(fileOf(qweight.name), `tensor "${name}" is missing (${q.label} needs qweight, qzeros and scales)`);
      const info = weights.info(name);
      const wantInt = suffix !== 'scales';
      if (wantInt !== (info.dtype === 'I32') || info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
        throw new ModelLoadError(
          fileOf(name),
          `tensor "${name}" is ${info.dtype} [${info.shape}], expected ${wantInt ? 'I32' : 'a float'} [${shape}] for ${q.label} with ${inFeatures} inputs and ${outFeatures} outputs`,
        );
      }
    }
    return { inFeatures, outFeatures };
  };

  const prefixOf = (name: string): string | null => {
    if (!name.endsWith('.weight')) return null;
    const prefix = name.slice(0, -'.weight'.length);
    return prefixes.has(prefix) ? prefix : null;
  };
  const required = (name: string): string => {
    const prefix = prefixOf(name);
    if (prefix === null) throw new ModelLoadError(fileOf(name), `tensor "${name}" is not stored packed`);
    return prefix;
  };

  return {
    quantization: q,
    has: (name) => prefixOf(name) !== null,
    shape(name) {
      const { inFeatures, outFeatures } = dims(required(name));
      return [outFeatures, inFeatures];
    },
    decode(name) {
      const prefix = required(name);
      const { inFeatures, outFeatures } = dims(prefix);
      const gIdx = weights.has(`${prefix}.g_idx`) && q.method === 'gptq' ? weights.readInt32(`${prefix}.g_idx`) : null;
      try {
        return decodePackedLinear(
          {
            qweight: weights.readInt32(prefix + PACKED_SUFFIX),
            qzeros: weights.readInt32(`${prefix}.qzeros`),
            scales: weights.read(`${prefix}.scales`).data,
            gIdx,
            inFeatures,
            outFeatures,
          },
          q,
          prefix,
        );
      } catch (error) {
        if (error instanceof ModelLoadError) throw error;
        throw new ModelLoadError(fileOf(prefix + PACKED_SUFFIX), (error as Error).message);
      }
    },
  };
}
