// @module Reference dequantizer: GGML blocks → float32, written straight from ggml-common.h / ggml-quants.c.
//
// Deliberately plain (one block at a time, float32 arithmetic via Math.fround as the C code does it), and
// independent of ggml-block-affine.ts: the tests hold the repacked block-affine form against this, and the
// float path (tensor(name) on a quantized tensor) uses it.

import { f16BitsToF32 } from './float16.ts';
import { GgmlType, IQ4_NL_VALUES, ggmlBlockLayout } from './ggml-types.ts';

const f = Math.fround;

/** The 6-bit scale and min of sub-block j of a Q4_K/Q5_K block (get_scale_min_k4). */
export function scaleMinK4(j: number, s: Uint8Array, at: number): [number, number] {
  if (j < 4) return [s[at + j]! & 63, s[at + j + 4]! & 63];
  return [(s[at + j + 4]! & 0xf) | ((s[at + j - 4]! >> 6) << 4), (s[at + j + 4]! >> 4) | ((s[at + j]! >> 6) << 4)];
}

/** The 16 signed 6-bit scales of a Q3_K block (the kmask1/kmask2 unpacking), each already minus 32. */
export function q3kScales(s: Uint8Array, at: number): Int8Array {
  const out = new Int8Array(16);
  for (let i = 0; i < 16; i++) {
    const low = i < 8 ? s[at + i]! & 0xf : s[at + i - 8]! >> 4;
    const high = (s[at + 8 + (i % 4)]! >> (2 * Math.floor(i / 4))) & 3;
    out[i] = (low | (high << 4)) - 32;
  }
  return out;
}

type BlockDecoder = (b: Uint8Array, at: number, y: Float32Array, o: number) => void;

const h = (b: Uint8Array, at: number) => f16BitsToF32(b[at]! | (b[at + 1]! << 8));

const DECODERS: Record<number, BlockDecoder> = {
  [GgmlType.Q4_0]: (b, at, y, o) => {
    const d = h(b, at);
    for (let j = 0; j < 16; j++) {
      y[o + j] = ((b[at + 2 + j]! & 0xf) - 8) * d;
      y[o + j + 16] = ((b[at + 2 + j]! >> 4) - 8) * d;
    }
  },
  [GgmlType.Q4_1]: (b, at, y, o) => {
    const d = h(b, at),
      m = h(b, at + 2);
    for (let j = 0; j < 16; j++) {
      y[o + j] = f(f((b[at + 4 + j]! & 0xf) * d) + m);
      y[o + j + 16] = f(f((b[at + 4 + j]! >> 4) * d) + m);
    }
  },
  [GgmlType.Q5_0]: (b, at, y, o) => {
    const d = h(b, at);
    const qh = (b[at + 2]! | (b[at + 3]! << 8) | (b[at + 4]! << 16) | (b[at + 5]! << 24)) >>> 0;
    for (let j = 0; j < 16; j++) {
      const xh0 = ((qh >>> j) << 4) & 0x10,
        xh1 = (qh >>> (j + 12)) & 0x10;
      y[o + j] = (((b[at + 6 + j]! & 0xf) | xh0) - 16) * d;
      y[o + j + 16] = (((b[at + 6 + j]! >> 4) | xh1) - 16) * d;
    }
  },
  [GgmlType.Q5_1]: (b, at, y, o) => {
    const d = h(b, at),
      m = h(b, at + 2);
    const qh = (b[at + 4]! | (b[at + 5]! << 8) | (b[at + 6]! << 16) | (b[at + 7]! << 24)) >>> 0;
    for (let j = 0; j < 16; j++) {
      const xh0 = ((qh >>> j) << 4) & 0x10,
        xh1 = (qh >>> (j + 12)) & 0x10;
      y[o + j] = f(f(((b[at + 8 + j]! & 0xf) | xh0) * d) + m);
      y[o + j + 16] = f(f(((b[at + 8 + j]! >> 4) | xh1) * d) + m);
    }
  },
  [GgmlType.Q8_0]: (b, at, y, o) => {
    const d = h(b, at);
    for (let j = 0; j < 32; j++) y[o + j] = ((b[at + 2 + j]! << 24) >> 24) * d;
  },
  [GgmlType.Q2_K]: (b, at, y, o) => {
    const d = h(b, at + 80),
      dmin = h(b, at + 82);
    let is = 0;
    for (let n = 0; n < 2; n++) {
      const q = at + 16 + 32 * n;
      for (let shift = 0; shift < 8; shift += 2) {
        for (let half = 0; half < 2; half++) {
          const sc = b[at + is++]!;
          const dl = f(d * (sc & 0xf)),
            ml = f(dmin * (sc >> 4));
          for (let l = 0; l < 16; l++) y[o++] = f(f(dl * ((b[q + 16 * half + l]! >> shift) & 3)) - ml);
        }
      }
    }
  },
  [GgmlType.Q3_K]: (b, at, y, o) => {
    const d = h(b, at + 108);
    const scales = q3kScales(b, at + 96);
    let is = 0;
    let m = 1;
    for (let n = 0; n < 2; n++) {
      const q = at + 32 + 32 * n;
      for (let shift = 0; shift < 8; shift += 2, m <<= 1) {
        for (let half = 0; half < 2; half++) {
          const dl = f(d * scales[is++]!);
          for (let l = 0; l < 16; l++) {
            const k = 16 * half + l;
            y[o++] = f(dl * (((b[q + k]! >> shift) & 3) - (b[at + k]! & m ? 0 : 4)));
          }
        }
      }
    }
  },
  [GgmlType.Q4_K]: (b, at, y, o) => {
    const d = h(b, at),
      dmin = h(b, at + 2);
    for (let j = 0; j < 4; j++) {
      const q = at + 16 + 32 * j;
      for (let half = 0; half < 2; half++) {
        const [sc, mn] = scaleMinK4(2 * j + half, b, at + 4);
        const d1 = f(d * sc),
          m1 = f(dmin * mn);
        for (let l = 0; l < 32; l++) y[o++] = f(f(d1 * (half ? b[q + l]! >> 4 : b[q + l]! & 0xf)) - m1);
      }
    }
  },
  [GgmlType.Q5_K]: (b, at, y, o) => {
    const d = h(b, at),
      dmin = h(b, at + 2);
    for (let j = 0; j < 4; j++) {
      const ql = at + 48 + 32 * j;
      for (let half = 0; half < 2; half++) {
        const [sc, mn] = scaleMinK4(2 * j + half, b, at + 4);
        const d1 = f(d * sc),
          m1 = f(dmin * mn);
        const u = 1 << (2 * j + half);
        for (let l = 0; l < 32; l++) {
          const low = half ? b[ql + l]! >> 4 : b[ql + l]! & 0xf;
          y[o++] = f(f(d1 * (low + (b[at + 16 + l]! & u ? 16 : 0))) - m1);
        }
      }
    }
  },
  [GgmlType.Q6_K]: (b, at, y, o) => {
    const d = h(b, at + 208);
    for (let n = 0; n < 2; n++) {
      const ql = at + 64 * n,
        qh = at + 128 + 32 * n,
        sc = at + 192 + 8 * n,
        out = o + 128 * n;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const hi = b[qh + l]!;
        const q1 = ((b[ql + l]! & 0xf) | ((hi & 3) << 4)) - 32;
        const q2 = ((b[ql + l + 32]! & 0xf) | (((hi >> 2) & 3) << 4)) - 32;
        const q3 = ((b[ql + l]! >> 4) | (((hi >> 4) & 3) << 4)) - 32;
        const q4 = ((b[ql + l + 32]! >> 4) | (((hi >> 6) & 3) << 4)) - 32;
        const s = (k: number) => f(d * ((b[sc + is + k]! << 24) >> 24));
        y[out + l] = f(s(0) * q1);
        y[out + l + 32] = f(s(2) * q2);
        y[out + l + 64] = f(s(4) * q3);
        y[out + l + 96] = f(s(6) * q4);
      }
    }
  },
  [GgmlType.IQ4_NL]: (b, at, y, o) => {
    const d = h(b, at);
    for (let j = 0; j < 16; j++) {
      y[o + j] = f(d * IQ4_NL_VALUES[b[at + 2 + j]! & 0xf]!);
      y[o + j + 16] = f(d * IQ4_NL_VALUES[b[at + 2 + j]! >> 4]!);
    }
  },
  [GgmlType.IQ4_XS]: (b, at, y, o) => {
    const d = h(b, at);
    const scalesH = b[at + 2]! | (b[at + 3]! << 8);
    for (let ib = 0; ib < 8; ib++) {
      const ls = ((b[at + 4 + (ib >> 1)]! >> (4 * (ib % 2))) & 0xf) | (((scalesH >> (2 * ib)) & 3) << 4);
      const dl = f(d * (ls - 32));
      const qs = at + 8 + 16 * ib;
      for (let j = 0; j < 16; j++) {
        y[o + 32 * ib + j] = f(dl * IQ4_NL_VALUES[b[qs + j]! & 0xf]!);
        y[o + 32 * ib + j + 16] = f(dl * IQ4_NL_VALUES[b[qs + j]! >> 4]!);
      }
    }
  },
};

/** Dequantizes `elements` values of block type `type` from `bytes` (whole blocks, as the file stores them). */
export function dequantizeGgml(type: number, bytes: Uint8Array, elements: number): Float32Array {
  const decode = DECODERS[type];
  const layout = ggmlBlockLayout(type);
  if (!decode || !layout) throw new Error(`no GGML block decoder for type ${type}`);
  const [blockElements, blockBytes] = layout;
  const out = new Float32Array(elements);
  for (let block = 0, at = 0; block * blockElements < elements; block++, at += blockBytes) decode(bytes, at, out, block * blockElements);
  return out;
}
