// @module GGML block encoders (round-to-nearest): float32 rows → Q8_0, Q4_0, Q4_K or Q6_K blocks, as llama.cpp lays them out.
//
// Q8_0 and Q4_0 follow llama.cpp's reference encoders (quantize_row_q8_0_ref / q4_0_ref). Q4_K and Q6_K use
// plain round-to-nearest for the sub-block scales and mins instead of llama.cpp's iterative search
// (make_qkx2_quants / make_qx_quants): the bytes are valid blocks any GGML reader decodes, with somewhat
// more error than llama-quantize's (measured in ggml-quantize.test.ts). For test models and benchmarks;
// real models come already quantized.

import { f16BitsToF32, f32ToF16Bits } from './float16.ts';
import { GgmlType, ggmlBlockLayout } from './ggml-types.ts';

/** The f16 a scale is stored as, and the float32 value a reader gets back. */
function half(value: number): [number, number] {
  const bits = f32ToF16Bits(value);
  return [bits, f16BitsToF32(bits)];
}

function putHalf(out: Uint8Array, at: number, bits: number): void {
  out[at] = bits & 0xff;
  out[at + 1] = bits >> 8;
}

type BlockEncoder = (x: Float32Array, o: number, out: Uint8Array, at: number) => void;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const f = Math.fround;
/** C's roundf: halves away from zero (Math.round rounds them up). */
const roundHalfAway = (v: number) => Math.sign(v) * Math.floor(Math.abs(v) + 0.5);

const ENCODERS: Record<number, BlockEncoder> = {
  // Both as llama.cpp's reference encoders: codes from the float32 scale, the scale stored as f16.
  [GgmlType.Q8_0]: (x, o, out, at) => {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]!));
    const d = f(amax / 127);
    const id = d ? f(1 / d) : 0;
    putHalf(out, at, f32ToF16Bits(d));
    for (let j = 0; j < 32; j++) out[at + 2 + j] = roundHalfAway(f(x[o + j]! * id)) & 0xff;
  },
  [GgmlType.Q4_0]: (x, o, out, at) => {
    let max = 0;
    for (let j = 0; j < 32; j++) if (Math.abs(x[o + j]!) > Math.abs(max)) max = x[o + j]!;
    const d = f(max / -8);
    const id = d ? f(1 / d) : 0;
    putHalf(out, at, f32ToF16Bits(d));
    const q = (v: number) => Math.min(15, Math.trunc(f(f(v * id) + 8.5)));
    for (let j = 0; j < 16; j++) out[at + 2 + j] = q(x[o + j]!) | (q(x[o + 16 + j]!) << 4);
  },
  [GgmlType.Q4_K]: (x, o, out, at) => {
    const scales = new Float64Array(8),
      mins = new Float64Array(8);
    for (let s = 0; s < 8; s++) {
      let lo = 0,
        hi = -Infinity;
      for (let l = 0; l < 32; l++) {
        lo = Math.min(lo, x[o + 32 * s + l]!);
        hi = Math.max(hi, x[o + 32 * s + l]!);
      }
      scales[s] = (hi - lo) / 15;
      mins[s] = -lo;
    }
    const [dBits, d] = half(Math.max(...scales) / 63);
    const [mBits, dmin] = half(Math.max(...mins) / 63);
    putHalf(out, at, dBits);
    putHalf(out, at + 2, mBits);
    const sc = Array.from(scales, (v) => (d ? clamp(Math.round(v / d), 0, 63) : 0));
    const mn = Array.from(mins, (v) => (dmin ? clamp(Math.round(v / dmin), 0, 63) : 0));
    for (let j = 0; j < 4; j++) {
      out[at + 4 + j] = sc[j]! | ((sc[j + 4]! >> 4) << 6);
      out[at + 8 + j] = mn[j]! | ((mn[j + 4]! >> 4) << 6);
      out[at + 12 + j] = (sc[j + 4]! & 0xf) | ((mn[j + 4]! & 0xf) << 4);
    }
    const code = (s: number, v: number) => {
      const step = d * sc[s]!;
      return step ? clamp(Math.round((v + dmin * mn[s]!) / step), 0, 15) : 0;
    };
    for (let g = 0; g < 4; g++) {
      for (let l = 0; l < 32; l++) {
        out[at + 16 + 32 * g + l] = code(2 * g, x[o + 64 * g + l]!) | (code(2 * g + 1, x[o + 64 * g + 32 + l]!) << 4);
      }
    }
  },
  [GgmlType.Q6_K]: (x, o, out, at) => {
    const scales = new Float64Array(16);
    for (let s = 0; s < 16; s++) {
      let amax = 0;
      for (let l = 0; l < 16; l++) amax = Math.max(amax, Math.abs(x[o + 16 * s + l]!));
      scales[s] = amax / 31;
    }
    const [dBits, d] = half(Math.max(...scales) / 127);
    putHalf(out, at + 208, dBits);
    const sc = Array.from(scales, (v) => (d ? clamp(Math.round(v / d), 0, 127) : 0));
    sc.forEach((v, s) => (out[at + 192 + s] = v));
    const q = new Uint8Array(256);
    for (let e = 0; e < 256; e++) {
      const step = d * sc[e >> 4]!;
      q[e] = (step ? clamp(Math.round(x[o + e]! / step), -32, 31) : 0) + 32;
    }
    for (let n = 0; n < 2; n++) {
      for (let l = 0; l < 32; l++) {
        const [q1, q2, q3, q4] = [q[128 * n + l]!, q[128 * n + l + 32]!, q[128 * n + l + 64]!, q[128 * n + l + 96]!];
        out[at + 64 * n + l] = (q1 & 0xf) | ((q3 & 0xf) << 4);
        out[at + 64 * n + l + 32] = (q2 & 0xf) | ((q4 & 0xf) << 4);
        out[at + 128 + 32 * n + l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6);
      }
    }
  },
};

/** Types quantizeGgml can write. */
export const ENCODABLE_GGML_TYPES: readonly number[] = Object.keys(ENCODERS).map(Number);

/** Encodes `data` (row-major, rows of `rowLength`, a multiple of the type's block) into GGML blocks of `type`. */
export function quantizeGgml(type: number, data: Float32Array, rowLength: number): Uint8Array {
  const encode = ENCODERS[type];
  const [elements, bytes] = ggmlBlockLayout(type) ?? [0, 0];
  if (!encode) throw new Error(`no GGML encoder for type ${type}`);
  if (rowLength % elements !== 0) throw new Error(`row length ${rowLength} is not a multiple of ${elements}`);
  const blocks = data.length / elements;
  const out = new Uint8Array(blocks * bytes);
  for (let block = 0; block < blocks; block++) encode(data, block * elements, out, block * bytes);
  return out;
}
