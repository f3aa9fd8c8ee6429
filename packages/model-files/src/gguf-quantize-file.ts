// @module `tessera quantize`: a float GGUF → a quantized GGUF (llama-quantize's job, with round-to-nearest encoders).
//
// Metadata (tokenizer, chat template, hyper-parameters) is copied byte for byte; each 2-D float tensor is
// re-encoded one at a time (so memory stays at one tensor), 1-D tensors (norms, biases) stay as they are.

import path from 'node:path';
import { readFileRange } from './file-range.ts';
import { ENCODABLE_GGML_TYPES, quantizeGgml } from './ggml-quantize.ts';
import { GGML_TYPE_NAMES, GgmlType, ggmlBlockLayout } from './ggml-types.ts';
import { ggufTensorByteLength, openGguf, readGgufTensor, type GgufTensorInfo } from './gguf.ts';
import { writeGgufStreaming, type StreamedTensor } from './gguf-write.ts';
import { ModelLoadError } from './types.ts';

/** What `tessera quantize` can write: one type for every matrix, or Q4_K_M's mix. */
export const GGUF_QUANT_PRESETS = ['Q8_0', 'Q4_0', 'Q4_K', 'Q6_K', 'Q4_K_M'] as const;
export type GgufQuantPreset = (typeof GGUF_QUANT_PRESETS)[number];

const FLOAT_TYPES = new Set<number>([GgmlType.F32, GgmlType.F16, GgmlType.BF16]);

/**
 * The type a tensor is written as. Q4_K_M follows llama.cpp's idea (the output head, attn_v and ffn_down,
 * the most sensitive, one step up at Q6_K; the rest Q4_K). Rows that are not whole K-blocks (256) fall back
 * to the 32-blocks Q4_0 / Q8_0 as llama-quantize does; rows that are not whole 32-blocks stay float.
 */
export function quantTypeFor(info: GgufTensorInfo, preset: GgufQuantPreset): number {
  // Matrices, and the 3-D stacks of a layer's experts (quantized row by row like any matrix).
  const isExpertStack = info.ne.length === 3 && /_exps\.weight$/.test(info.name);
  if ((info.ne.length !== 2 && !isExpertStack) || !FLOAT_TYPES.has(info.type)) return info.type;
  // The MoE router stays float, as llama-quantize keeps it: a rounding error there changes which experts run.
  if (/\.ffn_gate_inp\.weight$/.test(info.name)) return info.type;
  const sensitive = /^output\.weight$|\.attn_v\.weight$|\.ffn_down(_exps)?\.weight$/.test(info.name);
  const wanted = preset === 'Q4_K_M' ? (sensitive ? GgmlType.Q6_K : GgmlType.Q4_K) : GgmlType[preset];
  const rowLength = info.ne[0]!;
  if (rowLength % ggmlBlockLayout(wanted)![0] === 0) return wanted;
  const fallback = wanted === GgmlType.Q4_K ? GgmlType.Q4_0 : GgmlType.Q8_0;
  return rowLength % 32 === 0 ? fallback : info.type;
}

export interface QuantizeFileResult {
  /** Tensors and the types they were written as. */
  types: Record<string, string>;
  bytes: number;
}

/** Writes `dst`: `src` with its float matrices quantized per `preset`. */
export function quantizeGgufFile(
  src: string,
  dst: string,
  preset: GgufQuantPreset,
  onTensor?: (name: string, index: number, total: number) => void,
): QuantizeFileResult {
  const label = path.basename(src);
  const gguf = openGguf(src);
  const types: Record<string, string> = {};
  const tensors: StreamedTensor[] = [...gguf.tensors.values()].map((info) => {
    const type = quantTypeFor(info, preset);
    types[info.name] = GGML_TYPE_NAMES[type]!;
    if (type === info.type) {
      const byteLength = ggufTensorByteLength(info, label);
      return { name: info.name, ne: info.ne, type, byteLength, data: () => readFileRange(src, info.offset, byteLength) };
    }
    if (!ENCODABLE_GGML_TYPES.includes(type)) throw new ModelLoadError(label, `cannot write ${GGML_TYPE_NAMES[type]}`);
    const [blockElements, blockBytes] = ggmlBlockLayout(type)!;
    const byteLength = (info.ne.reduce((a, b) => a * b, 1) / blockElements) * blockBytes;
    return { name: info.name, ne: info.ne, type, byteLength, data: () => quantizeGgml(type, readGgufTensor(gguf, info.name).data, info.ne[0]!) };
  });
  const header = readFileRange(src, 0, gguf.metadataEnd);
  const bytes = writeGgufStreaming(dst, header, gguf.alignment, tensors, (name, index) => onTensor?.(name, index, tensors.length));
  return { types, bytes };
}
