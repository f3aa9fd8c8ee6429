// @module Test helper: packs integer Linear weights the way AutoGPTQ and AutoAWQ do and writes GPTQ/AWQ HF directories.
//
// The packers follow the exporters' own loops (AutoGPTQ/TGI `QuantLinear.pack`, AutoAWQ `WQLinear_GEMM.from_linear`)
// on an integer matrix drawn directly, so the loader is checked against values computed here from the integers,
// never against its own decoder.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expectedTensorShapes } from './canonical-tensors.ts';
import { AWQ_PACK_ORDER } from './gptq-awq-decode.ts';
import { f32ToF16Array, f16ToF32Array } from './float16.ts';
import { f32Bytes, writeSafetensors, type SafetensorsEntry } from './safetensors-writer.test-helper.ts';
import { tinyTokenizerJson } from './tiny-model.test-helper.ts';
import type { ModelConfig } from './types.ts';

/** One quantized Linear as the quantizer sees it: codes [in, out], zeros and scales [groups, out]. */
export interface IntLinear {
  inFeatures: number;
  outFeatures: number;
  groupSize: number;
  bits: 4 | 8;
  codes: Uint8Array;
  zeros: Uint16Array;
  /** f16-representable (the files store f16). */
  scales: Float32Array;
}

function uniform(seed: string): () => number {
  let a = createHash('sha256').update(seed).digest().readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Random codes, zeros anywhere in [0, 2^bits − 1] (z = 0 wraps to 2^bits − 1 in AutoGPTQ's v1 packing, which
 * the decoder must undo) or the symmetric 2^(bits−1), and f16 scales sized so values are ~ 1/√in.
 */
export function randomIntLinear(inFeatures: number, outFeatures: number, groupSize: number, bits: 4 | 8, seed: string, symmetric = false): IntLinear {
  const next = uniform(seed);
  const levels = 1 << bits;
  const groups = inFeatures / groupSize;
  const codes = Uint8Array.from({ length: inFeatures * outFeatures }, () => Math.floor(next() * levels));
  const zeros = Uint16Array.from({ length: groups * outFeatures }, () => (symmetric ? levels / 2 : Math.floor(next() * levels)));
  const scales = f16ToF32Array(f32ToF16Array(Float32Array.from({ length: groups * outFeatures }, () => ((0.5 + next()) * 4) / levels / Math.sqrt(inFeatures))));
  return { inFeatures, outFeatures, groupSize, bits, codes, zeros, scales };
}

/** The true weights s · (q − z), transposed to HF's [out, in], computed in float32 like the exporters' f16 math would not round. */
export function intLinearValues(l: IntLinear): Float32Array {
  const out = new Float32Array(l.inFeatures * l.outFeatures);
  for (let i = 0; i < l.inFeatures; i++) {
    const g = Math.floor(i / l.groupSize);
    for (let j = 0; j < l.outFeatures; j++) {
      out[j * l.inFeatures + i] = Math.fround(l.scales[g * l.outFeatures + j]! * (l.codes[i * l.outFeatures + j]! - l.zeros[g * l.outFeatures + j]!));
    }
  }
  return out;
}

const i32Bytes = (a: Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const f16Bytes = (a: Float32Array) => new Uint8Array(f32ToF16Array(a).buffer);

/** AutoGPTQ's pack: qweight rows hold 32/bits consecutive input rows, low bits first; zeros − 1 (v1) packed along out. */
export function packGptq(l: IntLinear, format: 'gptq' | 'gptq_v2' = 'gptq'): { qweight: Int32Array; qzeros: Int32Array; gIdx: Int32Array } {
  const perWord = 32 / l.bits;
  const { inFeatures: K, outFeatures: N } = l;
  const qweight = new Int32Array((K / perWord) * N);
  for (let row = 0; row < K / perWord; row++) {
    for (let k = 0; k < perWord; k++) {
      for (let j = 0; j < N; j++) qweight[row * N + j]! |= l.codes[(row * perWord + k) * N + j]! << (l.bits * k);
    }
  }
  const groups = K / l.groupSize;
  const qzeros = new Int32Array(groups * (N / perWord));
  const mask = (1 << l.bits) - 1;
  for (let g = 0; g < groups; g++) {
    for (let j = 0; j < N; j++) {
      const stored = (l.zeros[g * N + j]! - (format === 'gptq' ? 1 : 0)) & mask;
      qzeros[g * (N / perWord) + Math.floor(j / perWord)]! |= stored << (l.bits * (j % perWord));
    }
  }
  const gIdx = Int32Array.from({ length: K }, (_, i) => Math.floor(i / l.groupSize));
  return { qweight, qzeros, gIdx };
}

/** AutoAWQ's GEMM pack: qweight [in, out/8], nibble n of word c holding column 8c + AWQ_PACK_ORDER[n]; zeros the same. */
export function packAwq(l: IntLinear): { qweight: Int32Array; qzeros: Int32Array } {
  const { inFeatures: K, outFeatures: N } = l;
  const pack = (values: ArrayLike<number>, rows: number) => {
    const packed = new Int32Array(rows * (N / 8));
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < N / 8; c++) {
        for (let n = 0; n < 8; n++) packed[r * (N / 8) + c]! |= values[r * N + c * 8 + AWQ_PACK_ORDER[n]!]! << (4 * n);
      }
    }
    return packed;
  };
  return { qweight: pack(l.codes, K), qzeros: pack(l.zeros, K / l.groupSize) };
}

/** The safetensors entries of one packed Linear (`prefix` without ".weight"). */
export function packedEntries(prefix: string, l: IntLinear, method: 'gptq' | 'gptq_v2' | 'awq'): SafetensorsEntry[] {
  const groups = l.inFeatures / l.groupSize;
  const scales: SafetensorsEntry = { name: `${prefix}.scales`, dtype: 'F16', shape: [groups, l.outFeatures], bytes: f16Bytes(l.scales) };
  if (method === 'awq') {
    const { qweight, qzeros } = packAwq(l);
    return [
      { name: `${prefix}.qweight`, dtype: 'I32', shape: [l.inFeatures, l.outFeatures / 8], bytes: i32Bytes(qweight) },
      { name: `${prefix}.qzeros`, dtype: 'I32', shape: [groups, l.outFeatures / 8], bytes: i32Bytes(qzeros) },
      scales,
    ];
  }
  const perWord = 32 / l.bits;
  const { qweight, qzeros, gIdx } = packGptq(l, method);
  return [
    { name: `${prefix}.qweight`, dtype: 'I32', shape: [l.inFeatures / perWord, l.outFeatures], bytes: i32Bytes(qweight) },
    { name: `${prefix}.qzeros`, dtype: 'I32', shape: [groups, l.outFeatures / perWord], bytes: i32Bytes(qzeros) },
    scales,
    { name: `${prefix}.g_idx`, dtype: 'I32', shape: [l.inFeatures], bytes: i32Bytes(gIdx) },
  ];
}

const LINEAR = /\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)\.weight$/;

export interface PackedDirOptions {
  method: 'gptq' | 'gptq_v2' | 'awq';
  bits?: 4 | 8;
  groupSize?: number;
  symmetric?: boolean;
  /** Replaces/extends the generated quantization_config. */
  quantizationConfig?: Record<string, unknown>;
  seed?: number;
  /** Rewrites the safetensors entries before they are written (corrupt-file and act-order tests). */
  editEntries?: (entries: SafetensorsEntry[]) => SafetensorsEntry[];
}

/**
 * Writes config.json (with quantization_config), model.safetensors (packed Linear layers, float32 norms,
 * embeddings and head) and tokenizer.json. Returns the true [out, in] values of every packed Linear.
 */
export function writePackedHfDir(dir: string, config: ModelConfig, options: PackedDirOptions): Map<string, Float32Array> {
  const { method, bits = 4, groupSize = 32, symmetric = false, seed = 1 } = options;
  const entries: SafetensorsEntry[] = [];
  const values = new Map<string, Float32Array>();
  for (const [name, shape] of expectedTensorShapes(config)) {
    if (LINEAR.test(name)) {
      const [out, inFeatures] = shape as [number, number];
      const l = randomIntLinear(inFeatures, out, groupSize === -1 ? inFeatures : groupSize, bits, `${seed}:${name}`, symmetric);
      values.set(name, intLinearValues(l));
      entries.push(...packedEntries(name.slice(0, -'.weight'.length), l, method));
      continue;
    }
    const next = uniform(`${seed}:${name}`);
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () =>
      name.endsWith('norm.weight') ? 1 + 0.2 * (next() - 0.5) : name.endsWith('.bias') ? 0.2 * (next() - 0.5) : 2 * next() - 1,
    );
    entries.push({ name, dtype: 'F32', shape, bytes: f32Bytes(data) });
  }
  const quantizationConfig =
    method === 'awq'
      ? { quant_method: 'awq', bits, group_size: groupSize, zero_point: true, version: 'gemm' }
      : { quant_method: 'gptq', bits, group_size: groupSize, desc_act: false, sym: symmetric, checkpoint_format: method };
  const configJson = {
    architectures: [config.architecture],
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    num_key_value_heads: config.numKvHeads,
    vocab_size: config.vocabSize,
    rms_norm_eps: config.rmsNormEps,
    rope_theta: config.ropeTheta,
    max_position_embeddings: config.maxPositionEmbeddings,
    tie_word_embeddings: config.tieWordEmbeddings,
    quantization_config: { ...quantizationConfig, ...options.quantizationConfig },
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(configJson));
  writeSafetensors(path.join(dir, 'model.safetensors'), options.editEntries ? options.editEntries(entries) : entries);
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tinyTokenizerJson));
  return values;
}
