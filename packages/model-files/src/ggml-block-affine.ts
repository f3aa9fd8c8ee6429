// @module GGML blocks → BlockAffine: each block type mapped onto MatMulNBits' layout so it yields the same values.
//
// | GGML type | per block in the file                         | BlockAffine                                   | exact? |
// |-----------|-----------------------------------------------|-----------------------------------------------|--------|
// | Q4_0      | d·(q − 8), q 4-bit, 32                        | 4-bit/32, code q, scale d                     | yes    |
// | Q4_1      | d·q + m                                       | 4-bit/32, code q, scale d, offset m + 8d       | ≤1 ulp |
// | Q5_0      | d·(q − 16), q 5-bit                           | 8-bit/32, code q + 112, scale d               | yes    |
// | Q5_1      | d·q + m, q 5-bit                              | 8-bit/32, code q + 128, scale d, offset m     | yes    |
// | Q8_0      | d·q, q int8                                   | 8-bit/32, code q + 128, scale d               | yes    |
// | Q2_K      | 16 × (d·s)·q − dmin·m, q 2-bit, 4-bit s and m  | 4-bit/16, code q + 8, scale d·s, offset −dmin·m | yes  |
// | Q3_K      | 16 × d·(s − 32)·q, q in −4..3, 6-bit s        | 4-bit/16, code q + 8, scale d·(s − 32)        | yes    |
// | Q4_K      | 8 × (d·s)·q − dmin·m, q 4-bit, 6-bit s and m   | 4-bit/32, code q, scale d·s, offset 8·d·s − dmin·m | ≤1 ulp |
// | Q5_K      | 8 × (d·s)·q − dmin·m, q 5-bit                  | 8-bit/32, code q + 128, scale d·s, offset −dmin·m | yes |
// | Q6_K      | 16 × d·s·(q − 32), q 6-bit, int8 s            | 8-bit/16, code q + 96, scale d·s              | yes    |
// | IQ4_NL    | d·T[q], T a 16-entry table in −127..113       | 8-bit/32, code T[q] + 128, scale d            | yes    |
// | IQ4_XS    | 8 × d·(s − 32)·T[q]                           | 8-bit/32, code T[q] + 128, scale d·(s − 32)   | yes    |
//
// 5- and 6-bit codes, and IQ4's non-uniform table, have no 4-bit MatMulNBits form, so they widen to 8 bits
// (memory 1 byte per weight instead of 0.69–0.81). "≤1 ulp": the offset is one float32 rounding away from the
// file's m (Q4_1) or 8·d·s − dmin·m (Q4_K); MatMulNBits' fast kernels take no float zero points (see block-affine.ts).

import type { BlockAffine } from './block-affine.ts';
import { f16BitsToF32 } from './float16.ts';
import { q3kScales, scaleMinK4 } from './ggml-dequantize.ts';
import { GGML_TYPE_NAMES, GgmlType, IQ4_NL_VALUES, ggmlBlockLayout } from './ggml-types.ts';

interface Target {
  codes: Uint8Array;
  scales: Float32Array;
  offsets: Float32Array | null;
}

/** Writes one file block: its codes at codes[c..], its sub-block scales/offsets at scales[s..]. */
type BlockRepacker = (b: Uint8Array, at: number, t: Target, c: number, s: number) => void;

interface Mapping {
  bits: 4 | 8;
  blockSize: number;
  offsets: boolean;
  repack: BlockRepacker;
}

const h = (b: Uint8Array, at: number) => f16BitsToF32(b[at]! | (b[at + 1]! << 8));
const f = Math.fround;

/** Nibble j of a 32-value block stored as 16 bytes (low nibbles are values 0..15, high ones 16..31). */
function unpackNibbles(b: Uint8Array, at: number, codes: Uint8Array, c: number, add: number): void {
  for (let j = 0; j < 16; j++) {
    codes[c + j] = (b[at + j]! & 0xf) + add;
    codes[c + j + 16] = (b[at + j]! >> 4) + add;
  }
}

function fiveBitCodes(b: Uint8Array, qhAt: number, qsAt: number, codes: Uint8Array, c: number, add: number): void {
  const qh = (b[qhAt]! | (b[qhAt + 1]! << 8) | (b[qhAt + 2]! << 16) | (b[qhAt + 3]! << 24)) >>> 0;
  for (let j = 0; j < 16; j++) {
    codes[c + j] = ((b[qsAt + j]! & 0xf) | (((qh >>> j) << 4) & 0x10)) + add;
    codes[c + j + 16] = ((b[qsAt + j]! >> 4) | ((qh >>> (j + 12)) & 0x10)) + add;
  }
}

const MAPPINGS: Record<number, Mapping> = {
  [GgmlType.Q4_0]: {
    bits: 4,
    blockSize: 32,
    offsets: false,
    repack: (b, at, t, c, s) => {
      t.scales[s] = h(b, at);
      unpackNibbles(b, at + 2, t.codes, c, 0);
    },
  },
  [GgmlType.Q4_1]: {
    bits: 4,
    blockSize: 32,
    offsets: true,
    repack: (b, at, t, c, s) => {
      const d = h(b, at);
      t.scales[s] = d;
      t.offsets![s] = h(b, at + 2) + 8 * d;
      unpackNibbles(b, at + 4, t.codes, c, 0);
    },
  },
  [GgmlType.Q5_0]: {
    bits: 8,
    blockSize: 32,
    offsets: false,
    repack: (b, at, t, c, s) => {
      t.scales[s] = h(b, at);
      fiveBitCodes(b, at + 2, at + 6, t.codes, c, 128 - 16);
    },
  },
  [GgmlType.Q5_1]: {
    bits: 8,
    blockSize: 32,
    offsets: true,
    repack: (b, at, t, c, s) => {
      t.scales[s] = h(b, at);
      t.offsets![s] = h(b, at + 2);
      fiveBitCodes(b, at + 4, at + 8, t.codes, c, 128);
    },
  },
  [GgmlType.Q8_0]: {
    bits: 8,
    blockSize: 32,
    offsets: false,
    repack: (b, at, t, c, s) => {
      t.scales[s] = h(b, at);
      for (let j = 0; j < 32; j++) t.codes[c + j] = (b[at + 2 + j]! + 128) & 0xff; // int8 + 128 as u8
    },
  },
  [GgmlType.Q2_K]: {
    bits: 4,
    blockSize: 16,
    offsets: true,
    repack: (b, at, t, c, s) => {
      const d = h(b, at + 80),
        dmin = h(b, at + 82);
      let is = 0;
      for (let n = 0; n < 2; n++) {
        const q = at + 16 + 32 * n;
        for (let shift = 0; shift < 8; shift += 2) {
          for (let half = 0; half < 2; half++, is++) {
            const sc = b[at + is]!;
            t.scales[s + is] = f(d * (sc & 0xf));
            t.offsets![s + is] = -f(dmin * (sc >> 4));
            for (let l = 0; l < 16; l++) t.codes[c + 16 * is + l] = ((b[q + 16 * half + l]! >> shift) & 3) + 8;
          }
        }
      }
    },
  },
  [GgmlType.Q3_K]: {
    bits: 4,
    blockSize: 16,
    offsets: false,
    repack: (b, at, t, c, s) => {
      const d = h(b, at + 108);
      const scales = q3kScales(b, at + 96);
      let is = 0;
      let m = 1;
      for (let n = 0; n < 2; n++) {
        const q = at + 32 + 32 * n;
        for (let shift = 0; shift < 8; shift += 2, m <<= 1) {
          for (let half = 0; half < 2; half++, is++) {
            t.scales[s + is] = f(d * scales[is]!);
            for (let l = 0; l < 16; l++) {
              const k = 16 * half + l;
              t.codes[c + 16 * is + l] = ((b[q + k]! >> shift) & 3) + (b[at + k]! & m ? 8 : 4);
            }
          }
        }
      }
    },
  },
  [GgmlType.Q4_K]: {
    bits: 4,
    blockSize: 32,
    offsets: true,
    repack: (b, at, t, c, s) => {
      const d = h(b, at),
        dmin = h(b, at + 2);
      for (let sub = 0; sub < 8; sub++) {
        const [sc, mn] = scaleMinK4(sub, b, at + 4);
        const d1 = f(d * sc);
        t.scales[s + sub] = d1;
        t.offsets![s + sub] = 8 * d1 - f(dmin * mn);
        const q = at + 16 + 32 * (sub >> 1);
        for (let l = 0; l < 32; l++) t.codes[c + 32 * sub + l] = sub & 1 ? b[q + l]! >> 4 : b[q + l]! & 0xf;
      }
    },
  },
  [GgmlType.Q5_K]: {
    bits: 8,
    blockSize: 32,
    offsets: true,
    repack: (b, at, t, c, s) => {
      const d = h(b, at),
        dmin = h(b, at + 2);
      for (let sub = 0; sub < 8; sub++) {
        const [sc, mn] = scaleMinK4(sub, b, at + 4);
        t.scales[s + sub] = f(d * sc);
        t.offsets![s + sub] = -f(dmin * mn);
        const ql = at + 48 + 32 * (sub >> 1);
        const u = 1 << sub;
        for (let l = 0; l < 32; l++) {
          const low = sub & 1 ? b[ql + l]! >> 4 : b[ql + l]! & 0xf;
          t.codes[c + 32 * sub + l] = low + (b[at + 16 + l]! & u ? 16 : 0) + 128;
        }
      }
    },
  },
  [GgmlType.Q6_K]: {
    bits: 8,
    blockSize: 16,
    offsets: false,
    repack: (b, at, t, c, s) => {
      const d = h(b, at + 208);
      for (let sub = 0; sub < 16; sub++) t.scales[s + sub] = f(d * ((b[at + 192 + sub]! << 24) >> 24));
      for (let n = 0; n < 2; n++) {
        const ql = at + 64 * n,
          qh = at + 128 + 32 * n,
          out = c + 128 * n;
        for (let l = 0; l < 32; l++) {
          const hi = b[qh + l]!;
          t.codes[out + l] = ((b[ql + l]! & 0xf) | ((hi & 3) << 4)) + 96;
          t.codes[out + l + 32] = ((b[ql + l + 32]! & 0xf) | (((hi >> 2) & 3) << 4)) + 96;
          t.codes[out + l + 64] = ((b[ql + l]! >> 4) | (((hi >> 4) & 3) << 4)) + 96;
          t.codes[out + l + 96] = ((b[ql + l + 32]! >> 4) | (((hi >> 6) & 3) << 4)) + 96;
        }
      }
    },
  },
  [GgmlType.IQ4_NL]: {
    bits: 8,
    blockSize: 32,
    offsets: false,
    repack: (b, at, t, c, s) => {
      t.scales[s] = h(b, at);
      for (let j = 0; j < 16; j++) {
        t.codes[c + j] = IQ4_NL_VALUES[b[at + 2 + j]! & 0xf]! + 128;
        t.codes[c + j + 16] = IQ4_NL_VALUES[b[at + 2 + j]! >> 4]! + 128;
      }
    },
  },
  [GgmlType.IQ4_XS]: {
    bits: 8,
    blockSize: 32,
    offsets: false,
    repack: (b, at, t, c, s) => {
      const d = h(b, at);
      const scalesH = b[at + 2]! | (b[at + 3]! << 8);
      for (let ib = 0; ib < 8; ib++) {
        const ls = ((b[at + 4 + (ib >> 1)]! >> (4 * (ib % 2))) & 0xf) | (((scalesH >> (2 * ib)) & 3) << 4);
        t.scales[s + ib] = f(d * (ls - 32));
        const qs = at + 8 + 16 * ib;
        for (let j = 0; j < 16; j++) {
          t.codes[c + 32 * ib + j] = IQ4_NL_VALUES[b[qs + j]! & 0xf]! + 128;
          t.codes[c + 32 * ib + j + 16] = IQ4_NL_VALUES[b[qs + j]! >> 4]! + 128;
        }
      }
    },
  },
};

/** Whether a GGML type has a BlockAffine form. */
export function hasBlockAffineForm(type: number): boolean {
  return MAPPINGS[type] !== undefined;
}

/** The block-affine form of a [rows, cols] GGML tensor whose data is `bytes` (rows of whole blocks). */
export function ggmlToBlockAffine(type: number, bytes: Uint8Array, rows: number, cols: number): BlockAffine {
  const mapping = MAPPINGS[type];
  const layout = ggmlBlockLayout(type);
  if (!mapping || !layout) throw new Error(`GGML type ${GGML_TYPE_NAMES[type] ?? type} has no block-affine form`);
  const [blockElements, blockBytes] = layout;
  const subBlocks = blockElements / mapping.blockSize;
  const nb = cols / mapping.blockSize;
  const target: Target = {
    codes: new Uint8Array(rows * cols),
    scales: new Float32Array(rows * nb),
    offsets: mapping.offsets ? new Float32Array(rows * nb) : null,
  };
  const blocks = (rows * cols) / blockElements;
  for (let block = 0; block < blocks; block++) mapping.repack(bytes, block * blockBytes, target, block * blockElements, block * subBlocks);
  return { bits: mapping.bits, blockSize: mapping.blockSize, rows, cols, ...target, source: GGML_TYPE_NAMES[type]! };
}
