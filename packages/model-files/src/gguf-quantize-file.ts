// @module `tessera quantize`: a float GGUF → a quantized GGUF (llama-quantize's job, with round-to-nearest encoders).
//
// Metadata (tokenizer, chat template, hyper-parameters) is copied byte for byte; each 2-D float tensor is
// re-encoded one at a time (so memory stays at one tensor), 1-D tensors (norms, biases) stay as they are.

import fs from 'node:fs';
import path from 'node:path';
import { readFileRange } from './file-range.ts';
import { ENCODABLE_GGML_TYPES, quantizeGgml } from './ggml-quantize.ts';
import { GGML_TYPE_NAMES, GgmlType, ggmlBlockLayout } from './ggml-types.ts';
import { ggufTensorByteLength, openGguf, readGgufTensor, type GgufTensorInfo } from './gguf.ts';
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
  if (info.ne.length !== 2 || !FLOAT_TYPES.has(info.type)) return info.type;
  const sensitive = /^output\.weight$|\.attn_v\.weight$|\.ffn_down\.weight$/.test(info.name);
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
export function quantizeGgufFile(src: string, dst: string, preset: GgufQuantPreset, onTensor?: (name: string, index: number, total: number) => void): QuantizeFileResult {
  const label = path.basename(src);
  const gguf = openGguf(src);
  const infos = [...gguf.tensors.values()];
  const align = (n: number) => Math.ceil(n / gguf.alignment) * gguf.alignment;
  const plan = infos.map((info) => {
    const type = quantTypeFor(info, preset);
    const elements = info.ne.reduce((a, b) => a * b, 1);
    const [blockElements, blockBytes] = ggmlBlockLayout(type) ?? [0, 0];
    if (type === info.type) ggufTensorByteLength(info, label); // checks it is readable
    else if (!ENCODABLE_GGML_TYPES.includes(type)) throw new ModelLoadError(label, `cannot write ${GGML_TYPE_NAMES[type]}`);
    return { info, type, bytes: (elements / blockElements) * blockBytes, offset: 0 };
  });
  let offset = 0;
  for (const p of plan) {
    p.offset = offset;
    offset = align(offset + p.bytes);
  }

  const head: Buffer[] = [Buffer.from(readFileRange(src, 0, gguf.metadataEnd))];
  for (const { info, type, offset: at } of plan) {
    const name = Buffer.from(info.name, 'utf8');
    const fields = Buffer.alloc(8 + name.length + 4 + 8 * info.ne.length + 4 + 8);
    let o = fields.writeBigUInt64LE(BigInt(name.length));
    o += name.copy(fields, o);
    o = fields.writeUInt32LE(info.ne.length, o);
    for (const n of info.ne) o = fields.writeBigUInt64LE(BigInt(n), o);
    o = fields.writeUInt32LE(type, o);
    fields.writeBigUInt64LE(BigInt(at), o);
    head.push(fields);
  }
  const headLength = head.reduce((n, b) => n + b.length, 0);
  head.push(Buffer.alloc(align(headLength) - headLength));

  const fd = fs.openSync(dst, 'w');
  const types: Record<string, string> = {};
  try {
    let written = 0;
    for (const b of head) written += fs.writeSync(fd, b);
    const dataStart = written;
    plan.forEach(({ info, type, bytes, offset: at }, index) => {
      onTensor?.(info.name, index, plan.length);
      const data = type === info.type
        ? readFileRange(src, info.offset, bytes)
        : quantizeGgml(type, readGgufTensor(gguf, info.name).data, info.ne[0]!);
      written += fs.writeSync(fd, Buffer.alloc(dataStart + at - written));
      written += fs.writeSync(fd, data);
      types[info.name] = GGML_TYPE_NAMES[type]!;
    });
    return { types, bytes: written };
  } finally {
    fs.closeSync(fd);
  }
}
